"""Recipe 1: a plain PyTorch loop: DataLoader + CodeSwitchCollator + contrastive_loss + AdamW."""

from __future__ import annotations

import torch
from common import muse_switchers, parse_args, squad_rows

from xcs import CodeSwitchCollator, Encoder, contrastive_loss


def main() -> None:
    args = parse_args(__doc__)
    torch.manual_seed(args.seed)
    encoder = Encoder(args.model)
    collator = CodeSwitchCollator(encoder.tokenizer, *muse_switchers(encoder.tokenizer, args),
                                  max_query_length=64, max_document_length=128)
    rows = squad_rows(args)
    loader = torch.utils.data.DataLoader(rows, batch_size=args.batch_size, shuffle=True, collate_fn=collator,
                                         num_workers=2)
    optimizer = torch.optim.AdamW(encoder.model.parameters(), lr=2e-5)
    encoder.model.train()
    step, epoch = 0, 0
    while step < args.steps:
        collator.set_epoch(epoch)  # a new switch pattern every epoch, in the workers too
        for batch in loader:
            q = encoder.forward_tokens(batch["query_input_ids"], batch["query_attention_mask"])
            d = encoder.forward_tokens(batch["document_input_ids"], batch["document_attention_mask"])
            loss = contrastive_loss(q, d, temperature=0.05, false_negative_ids=batch["document_ids"])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
            print(f"step {step} loss {loss.item():.4f}")
            if step == args.steps:
                break
        epoch += 1
    encoder.model.eval()
    print("saved", encoder.save(args.out, overwrite=True))


if __name__ == "__main__":
    main()
