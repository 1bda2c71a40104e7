"""Recipe 5: evaluation inside training: XtremeREvaluator runs the xcs suite (XQuAD-R MoIR / CLIR /
MLIR / LAReQA, Tatoeba) on a subsample before training and every ``--eval-steps`` steps."""

from __future__ import annotations

from common import parse_args, sentence_transformer_setup
from sentence_transformers import SentenceTransformerTrainer
from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
from sentence_transformers.sentence_transformer.training_args import SentenceTransformerTrainingArguments

from xcs.integrations.sentence_transformers import CodeSwitchDataCollator, XtremeREvaluator
from xcs.integrations.transformers import CodeSwitchEpochCallback


def main() -> None:
    args = parse_args(__doc__)
    model, dataset, (query_switcher, document_switcher) = sentence_transformer_setup(args)
    collator = CodeSwitchDataCollator(model, {"anchor": query_switcher, "positive": document_switcher})
    evaluator = XtremeREvaluator("xquadr", data_dir=args.data_dir, subsample=20,
                                 languages=["en", "de", "ar"])
    print("before training:", evaluator(model))
    training_args = SentenceTransformerTrainingArguments(
        output_dir=args.out, max_steps=args.steps, per_device_train_batch_size=args.batch_size,
        learning_rate=2e-5, logging_steps=1, eval_strategy="steps", eval_steps=max(1, args.steps // 2),
        save_strategy="no", report_to=[], seed=args.seed)
    trainer = SentenceTransformerTrainer(model=model, args=training_args, train_dataset=dataset,
                                         loss=MultipleNegativesRankingLoss(model, scale=20.0),
                                         data_collator=collator, evaluator=evaluator,
                                         callbacks=[CodeSwitchEpochCallback(collator)])
    trainer.train()
    print("after training:", evaluator(model))


if __name__ == "__main__":
    main()
