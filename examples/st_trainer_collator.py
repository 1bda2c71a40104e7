"""Recipe 3: SentenceTransformerTrainer with CodeSwitchDataCollator: the query and document columns
code-switched on their token ids; the model's prompts ("query: ", "passage: ") added after switching."""

from __future__ import annotations

from common import parse_args, sentence_transformer_setup
from sentence_transformers import SentenceTransformerTrainer
from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
from sentence_transformers.sentence_transformer.training_args import SentenceTransformerTrainingArguments

from xcs.integrations.sentence_transformers import CodeSwitchDataCollator
from xcs.integrations.transformers import CodeSwitchEpochCallback


def main() -> None:
    args = parse_args(__doc__)
    model, dataset, (query_switcher, document_switcher) = sentence_transformer_setup(args)
    collator = CodeSwitchDataCollator(model, {"anchor": query_switcher, "positive": document_switcher})
    training_args = SentenceTransformerTrainingArguments(
        output_dir=args.out, max_steps=args.steps, per_device_train_batch_size=args.batch_size,
        learning_rate=2e-5, warmup_steps=0.1, logging_steps=1, save_strategy="no", report_to=[],
        seed=args.seed)
    trainer = SentenceTransformerTrainer(model=model, args=training_args, train_dataset=dataset,
                                         loss=MultipleNegativesRankingLoss(model, scale=20.0),
                                         data_collator=collator,
                                         callbacks=[CodeSwitchEpochCallback(collator)])
    trainer.train()
    model.save(f"{args.out}/model")
    print("saved", f"{args.out}/model")


if __name__ == "__main__":
    main()
