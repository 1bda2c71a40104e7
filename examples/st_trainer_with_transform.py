"""Recipe 4: SentenceTransformerTrainer with its own collator, code-switching the texts in a
``datasets`` transform (CodeSwitcher.switch_texts: tokenize, switch, decode). Simpler to read and to
inspect; the collator recipe (3) is exact on token ids and draws anew every epoch."""

from __future__ import annotations

from common import parse_args, sentence_transformer_setup
from sentence_transformers import SentenceTransformerTrainer
from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
from sentence_transformers.sentence_transformer.training_args import SentenceTransformerTrainingArguments


def main() -> None:
    args = parse_args(__doc__)
    model, dataset, (query_switcher, document_switcher) = sentence_transformer_setup(args)

    def switch(batch: dict) -> dict:
        # the index column keeps each example's draw fixed however the trainer shuffles
        return {"anchor": query_switcher.switch_texts(batch["anchor"], batch["index"]),
                "positive": document_switcher.switch_texts(batch["positive"], batch["index"])}

    dataset = dataset.with_transform(switch)
    print("a switched example:", dataset[0])
    training_args = SentenceTransformerTrainingArguments(
        output_dir=args.out, max_steps=args.steps, per_device_train_batch_size=args.batch_size,
        learning_rate=2e-5, warmup_steps=0.1, logging_steps=1, save_strategy="no", report_to=[],
        seed=args.seed,
        prompts={"anchor": model.prompts.get("query", ""), "positive": model.prompts.get("document", "")})
    trainer = SentenceTransformerTrainer(model=model, args=training_args, train_dataset=dataset,
                                         loss=MultipleNegativesRankingLoss(model, scale=20.0))
    trainer.train()
    model.save(f"{args.out}/model")
    print("saved", f"{args.out}/model")


if __name__ == "__main__":
    main()
