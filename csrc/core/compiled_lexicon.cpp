// CompiledLexicon: validation of the CSR arrays and the open-addressing hash table over keys.
#include <algorithm>
#include <stdexcept>
#include <string>

#include "codeswitch.hpp"
#include "rng.hpp"

namespace xcs {

int abi_version() { return 3; }

namespace {

[[noreturn]] void fail(const std::string& message) { throw std::invalid_argument("CompiledLexicon: " + message); }

// For one-off checks; checks inside loops call fail() so that the message is built only on failure.
void check(bool ok, const std::string& message) {
  if (!ok) fail(message);
}

// offsets must be [0, ..., total], nondecreasing, of the expected size; with `min_len`, every
// row must have at least that many elements.
void check_offsets(const std::vector<int64_t>& offsets, int64_t rows, int64_t total,
                   const char* name, int64_t min_len) {
  check(static_cast<int64_t>(offsets.size()) == rows + 1,
        std::string(name) + " has " + std::to_string(offsets.size()) + " entries, expected " +
            std::to_string(rows + 1));
  check(offsets.front() == 0, std::string(name) + "[0] must be 0");
  check(offsets.back() == total, std::string(name) + " must end at " + std::to_string(total));
  // Every offset within [0, total] first, so that the differences below cannot overflow.
  for (int64_t i = 0; i <= rows; ++i) {
    if (offsets[i] < 0 || offsets[i] > total) {
      fail(std::string(name) + "[" + std::to_string(i) + "] = " + std::to_string(offsets[i]) +
           " is outside [0, " + std::to_string(total) + "]");
    }
  }
  for (int64_t i = 0; i < rows; ++i) {
    if (offsets[i + 1] - offsets[i] < min_len) {
      fail(std::string(name) + ": row " + std::to_string(i) + " is shorter than " + std::to_string(min_len) +
           " or offsets decrease");
    }
  }
}

void check_tokens(const std::vector<int32_t>& tokens, int64_t vocab_size, const char* name) {
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] < 0 || tokens[i] >= vocab_size) {
      fail(std::string(name) + "[" + std::to_string(i) + "] = " + std::to_string(tokens[i]) +
           " is outside the vocabulary [0, " + std::to_string(vocab_size) + ")");
    }
  }
}

}  // namespace

CompiledLexicon::CompiledLexicon(std::vector<int64_t> key_offsets, std::vector<int32_t> key_tokens,
                                 std::vector<int32_t> key_units, std::vector<int32_t> key_entry,
                                 std::vector<int64_t> entry_offsets,
                                 std::vector<int64_t> cand_offsets,
                                 std::vector<int32_t> cand_tokens, int64_t vocab_size,
                                 uint64_t fingerprint, int32_t case_variants)
    : key_offsets_(std::move(key_offsets)),
      key_tokens_(std::move(key_tokens)),
      key_units_(std::move(key_units)),
      key_entry_(std::move(key_entry)),
      entry_offsets_(std::move(entry_offsets)),
      cand_offsets_(std::move(cand_offsets)),
      cand_tokens_(std::move(cand_tokens)),
      vocab_size_(vocab_size),
      fingerprint_(fingerprint),
      case_variants_(case_variants) {
  check(vocab_size_ > 0 && vocab_size_ <= (int64_t{1} << 31), "vocab_size must be in [1, 2^31]");
  check(case_variants_ == 1 || case_variants_ == kCaseVariants,
        "case_variants must be 1 or " + std::to_string(kCaseVariants) + ", got " + std::to_string(case_variants_));
  const int64_t n_keys = static_cast<int64_t>(key_units_.size());
  check(n_keys < (int64_t{1} << 30), "too many keys");
  check(!entry_offsets_.empty(), "entry_offsets must not be empty");
  const int64_t n_entries = static_cast<int64_t>(entry_offsets_.size()) - 1;
  check(!cand_offsets_.empty(), "cand_offsets must not be empty");
  const int64_t n_rows = static_cast<int64_t>(cand_offsets_.size()) - 1;
  check(n_rows % case_variants_ == 0, "cand_offsets has " + std::to_string(n_rows) +
                                          " rows, not a multiple of case_variants = " + std::to_string(case_variants_));
  const int64_t n_cands = n_rows / case_variants_;
  check(static_cast<int64_t>(key_entry_.size()) == n_keys, "key_entry and key_units differ in size");
  check_offsets(key_offsets_, n_keys, static_cast<int64_t>(key_tokens_.size()), "key_offsets", 1);
  check_offsets(entry_offsets_, n_entries, n_cands, "entry_offsets", 1);
  check_offsets(cand_offsets_, n_rows, static_cast<int64_t>(cand_tokens_.size()), "cand_offsets", 1);
  check_tokens(key_tokens_, vocab_size_, "key_tokens");
  check_tokens(cand_tokens_, vocab_size_, "cand_tokens");
  for (int64_t k = 0; k < n_keys; ++k) {
    const int64_t len = key_offsets_[k + 1] - key_offsets_[k];
    if (key_units_[k] < 1 || key_units_[k] > len) {
      fail("key " + std::to_string(k) + " spans " + std::to_string(key_units_[k]) + " units, expected 1.." +
           std::to_string(len));
    }
    if (key_entry_[k] < 0 || key_entry_[k] >= n_entries) {
      fail("key " + std::to_string(k) + " points at entry " + std::to_string(key_entry_[k]) + " of " +
           std::to_string(n_entries));
    }
  }
  for (int64_t e = 0; e < n_entries; ++e) {
    if ((entry_offsets_[e + 1] - entry_offsets_[e]) * case_variants_ >= (int64_t{1} << 31)) {
      fail("entry " + std::to_string(e) + " has too many candidates");
    }
  }

  for (int64_t k = 0; k < n_keys; ++k) {
    if (std::find(unit_lengths_.begin(), unit_lengths_.end(), key_units_[k]) == unit_lengths_.end()) {
      unit_lengths_.push_back(key_units_[k]);
    }
  }
  std::sort(unit_lengths_.begin(), unit_lengths_.end(), std::greater<int32_t>());
  bitset_words_ = static_cast<size_t>((vocab_size_ + 63) / 64);
  first_token_bits_.assign(bitset_words_ * unit_lengths_.size(), 0);

  const std::vector<int32_t> entry_block = build_blocks();

  uint64_t multi_token_keys = 0;
  for (int64_t k = 0; k < n_keys; ++k) multi_token_keys += key_offsets_[k + 1] - key_offsets_[k] > 1;
  uint64_t filter_bits = uint64_t{1} << 16;
  while (filter_bits < 16 * multi_token_keys) filter_bits <<= 1;
  filter_.assign(filter_bits / 64, 0);
  filter_mask_ = filter_bits - 1;
  uint64_t table_size = 16;
  while (table_size < 2 * multi_token_keys) table_size <<= 1;
  table_.assign(table_size, Slot{0, -1, -1, -1, -1, 0});
  table_mask_ = table_size - 1;
  single_block_.assign(static_cast<size_t>(vocab_size_), -1);
  for (int64_t k = 0; k < n_keys; ++k) {
    const int32_t* tokens = key_tokens_.data() + key_offsets_[k];
    const int64_t len = key_offsets_[k + 1] - key_offsets_[k];
    if (find(tokens, len, key_units_[k]) >= 0) fail("key " + std::to_string(k) + " is a duplicate");
    if (len == 1) {
      single_block_[tokens[0]] = entry_block[key_entry_[k]];
    } else {
      const uint64_t h = rng::span_hash(tokens, len, key_units_[k]);
      const uint64_t bit = (h >> 32) & filter_mask_;
      filter_[bit >> 6] |= uint64_t{1} << (bit & 63);
      uint64_t slot = h & table_mask_;
      while (table_[slot].key >= 0) slot = (slot + 1) & table_mask_;
      table_[slot] = Slot{h, static_cast<int32_t>(k), entry_block[key_entry_[k]], tokens[0], tokens[1],
                          static_cast<int32_t>(len)};
    }
    const size_t length_slot = static_cast<size_t>(
        std::find(unit_lengths_.begin(), unit_lengths_.end(), key_units_[k]) - unit_lengths_.begin());
    first_token_bits_[length_slot * bitset_words_ + (tokens[0] >> 6)] |= uint64_t{1} << (tokens[0] & 63);
  }
}

std::vector<int32_t> CompiledLexicon::build_blocks() {
  const int64_t n_entries = num_entries();
  const int64_t n_cands = entry_offsets_.back();
  // upper bounds of the total sizes, which must fit int32 offsets
  const int64_t blocks_bound = 3 * n_entries + n_cands + static_cast<int64_t>(cand_tokens_.size());
  const int64_t tails_bound = 2 * n_cands * (case_variants_ - 1) + static_cast<int64_t>(cand_tokens_.size());
  check(blocks_bound < (int64_t{1} << 31) && tails_bound < (int64_t{1} << 31), "too many candidate tokens");
  blocks_.reserve(static_cast<size_t>(blocks_bound));
  tails_.reserve(static_cast<size_t>(tails_bound));
  std::vector<int32_t> entry_block(static_cast<size_t>(n_entries));
  for (int64_t e = 0; e < n_entries; ++e) {
    entry_block[e] = static_cast<int32_t>(blocks_.size());
    append_block(entry_offsets_[e], entry_offsets_[e + 1] - entry_offsets_[e]);
  }
  return entry_block;
}

void CompiledLexicon::append_block(int64_t first, int64_t count) {
  const int64_t variants = case_variants_;
  // tokens of candidate first + c in variant v end where row_begin(c, v + 1) starts
  const auto row_begin = [&](int64_t c, int64_t v) {
    return cand_tokens_.begin() + cand_offsets_[(first + c) * variants + v];
  };
  const size_t tail = tails_.size();
  // the written forms: count + 1 starts relative to the block, then their tokens
  blocks_.push_back(static_cast<int32_t>(count));
  blocks_.push_back(static_cast<int32_t>(tail));
  int64_t start = 3 + count;
  for (int64_t c = 0; c <= count; ++c) {
    blocks_.push_back(static_cast<int32_t>(start));
    if (c < count) start += row_begin(c, 1) - row_begin(c, 0);
  }
  for (int64_t c = 0; c < count; ++c) blocks_.insert(blocks_.end(), row_begin(c, 0), row_begin(c, 1));
  if (variants == 1) return;
  // the other variants: a (begin, end) pair each, relative to the tail, then the tokens of those
  // that differ from every earlier variant of their candidate
  tails_.resize(tail + static_cast<size_t>(2 * count * (variants - 1)));
  const auto pair_at = [&](int64_t c, int64_t v) { return tail + static_cast<size_t>(2 * (c * (variants - 1) + v - 1)); };
  for (int64_t c = 0; c < count; ++c) {
    for (int64_t v = 1; v < variants; ++v) {
      int64_t w = 0;
      while (w < v && !std::equal(row_begin(c, v), row_begin(c, v + 1), row_begin(c, w), row_begin(c, w + 1))) ++w;
      const size_t at = pair_at(c, v);
      if (w > 0 && w < v) {  // the same tokens as variant w
        tails_[at] = tails_[pair_at(c, w)];
        tails_[at + 1] = tails_[pair_at(c, w) + 1];
        continue;
      }
      // a copy also when equal to the written form, which lives in the block
      tails_[at] = static_cast<int32_t>(tails_.size() - tail);
      tails_.insert(tails_.end(), row_begin(c, v), row_begin(c, v + 1));
      tails_[at + 1] = static_cast<int32_t>(tails_.size() - tail);
    }
  }
}

template <typename Id>
int32_t CompiledLexicon::find(const Id* tokens, int64_t n, int32_t units) const {
  if (n == 1) return single_block_[tokens[0]];  // a one-token span is one unit
  const uint64_t h = rng::span_hash(tokens, n, units);
  if (!maybe_present(h)) return -1;
  uint64_t index = h & table_mask_;
  for (;;) {
    const Slot& slot = table_[index];
    if (slot.key < 0) return -1;
    // Equal token sequences have equal unit counts, so comparing the tokens is enough.
    if (slot.hash == h && slot.n_tokens == n && slot.first_token == static_cast<int64_t>(tokens[0]) &&
        slot.second_token == static_cast<int64_t>(tokens[1])) {
      const int32_t* key = key_tokens_.data() + key_offsets_[slot.key];
      bool equal = true;
      for (int64_t i = 2; i < n && equal; ++i) equal = static_cast<int64_t>(key[i]) == tokens[i];
      if (equal) return slot.block;
    }
    index = (index + 1) & table_mask_;
  }
}

template int32_t CompiledLexicon::find<int32_t>(const int32_t*, int64_t, int32_t) const;
template int32_t CompiledLexicon::find<int64_t>(const int64_t*, int64_t, int32_t) const;

}  // namespace xcs
