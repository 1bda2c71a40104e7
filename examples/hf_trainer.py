"""Recipe 2: transformers.Trainer: the xcs collator, a dual encoder whose forward returns the loss,
and the epoch callback (no remove_unused_columns, no custom compute_loss)."""

from __future__ import annotations

import datasets
from common import muse_switchers, parse_args, squad_rows
from transformers import Trainer, TrainingArguments

from xcs import CodeSwitchCollator, Encoder
from xcs.integrations.transformers import CodeSwitchEpochCallback, DualEncoderForContrastiveTraining


def main() -> None:
    args = parse_args(__doc__)
    encoder = Encoder(args.model)
    collator = CodeSwitchCollator(encoder.tokenizer, *muse_switchers(encoder.tokenizer, args),
                                  max_query_length=64, max_document_length=128)
    dataset = datasets.Dataset.from_list(squad_rows(args))
    training_args = TrainingArguments(output_dir=args.out, max_steps=args.steps,
                                      per_device_train_batch_size=args.batch_size, learning_rate=2e-5,
                                      warmup_steps=0.1, logging_steps=1, save_strategy="no", report_to=[],
                                      seed=args.seed)
    trainer = Trainer(model=DualEncoderForContrastiveTraining(encoder, temperature=0.05), args=training_args,
                      train_dataset=dataset, data_collator=collator,
                      callbacks=[CodeSwitchEpochCallback(collator)])
    trainer.train()
    print("saved", encoder.save(f"{args.out}/model", overwrite=True))


if __name__ == "__main__":
    main()
