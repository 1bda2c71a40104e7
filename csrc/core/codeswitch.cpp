// switch_batch: validation, the per-example algorithm, and the thread pool over chunks.
#include "codeswitch.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <stdexcept>
#include <string>
#include <thread>

#include "rng.hpp"

namespace xcs {

namespace {

void fail(const std::string& message) { throw std::invalid_argument(message); }

// Output of a contiguous chunk of examples, merged in example order at the end.
struct ChunkOutput {
  std::vector<int32_t> ids;
  std::vector<int64_t> lengths;
  std::vector<int32_t> word_index;
  std::vector<int8_t> language;
  std::vector<uint8_t> switched;
};

// Reusable per-thread scratch: word-unit start positions and kinds of one example.
struct Scratch {
  std::vector<int64_t> unit_start;
  std::vector<uint8_t> unit_kind;  // 0 word, 1 punctuation, 2 special
};

constexpr uint8_t kUnitWord = 0;
constexpr uint8_t kUnitPunct = 1;
constexpr uint8_t kUnitSpecial = 2;

template <typename Id>
class ExampleSwitcher {
 public:
  ExampleSwitcher(const uint8_t* token_class, const std::vector<const CompiledLexicon*>& lexicons,
                  const SwitchConfig& config)
      : token_class_(token_class),
        lexicons_(lexicons),
        config_(config),
        threshold_(rng::probability_threshold(config.p)) {}

  void run(const Id* in, int64_t n, uint64_t example, Scratch& scratch, ChunkOutput& out) const {
    const uint64_t key = rng::example_key(config_.seed, config_.epoch, example);
    // 1. Word units: a unit starts at a word-start, punctuation or special token, and after a
    //    punctuation or special token (so "don't" -> "▁don" "'" "t" is three units).
    auto& starts = scratch.unit_start;
    auto& kinds = scratch.unit_kind;
    starts.clear();
    kinds.clear();
    bool boundary = true;
    for (int64_t pos = 0; pos < n; ++pos) {
      const uint8_t cls = token_class_[in[pos]];
      if (cls != kContinuation || boundary) {
        starts.push_back(pos);
        kinds.push_back(cls == kSpecial ? kUnitSpecial : cls == kPunctuation ? kUnitPunct : kUnitWord);
      }
      boundary = cls == kPunctuation || cls == kSpecial;
    }
    const int64_t n_units = static_cast<int64_t>(starts.size());
    starts.push_back(n);

    // 2. Truncation keeps a closing special token: the body is everything before it.
    const bool keep_closing = config_.max_length > 0 && token_class_[in[n - 1]] == kSpecial;
    const int64_t body_units = keep_closing ? n_units - 1 : n_units;
    const int64_t limit = config_.max_length <= 0 ? INT64_MAX
                          : keep_closing        ? config_.max_length - 1
                                                : config_.max_length;
    const size_t out_begin = out.ids.size();

    // 3. Walk the units; a coin per unit decides whether to look it up.
    int64_t u = 0;
    while (u < body_units && static_cast<int64_t>(out.ids.size() - out_begin) < limit) {
      if (kinds[u] != kUnitWord || (rng::draw(key, u, rng::kStreamCoin) >> 11) >= threshold_) {
        emit_original(in, starts[u], starts[u + 1], u, out);
        ++u;
        continue;
      }
      size_t lang = 0;
      if (lexicons_.size() > 1) {
        const uint64_t d = rng::draw(key, u, rng::kStreamLanguage) >> 11;
        while (d >= config_.language_cumulative[lang]) ++lang;
      }
      const CompiledLexicon& lex = *lexicons_[lang];
      // Units available for a phrase starting at u: consecutive non-special units.
      int64_t available = 0;
      const int64_t max_units = lex.max_units();
      while (available < max_units && u + available < body_units && kinds[u + available] != kUnitSpecial) {
        ++available;
      }
      int32_t entry = -1;
      int32_t matched = 0;
      for (int32_t len : lex.unit_lengths()) {
        if (len > available) continue;
        entry = lex.find(in + starts[u], starts[u + len] - starts[u], len);
        if (entry >= 0) {
          matched = len;
          break;
        }
      }
      if (entry < 0) {
        emit_original(in, starts[u], starts[u + 1], u, out);
        ++u;
        continue;
      }
      const int64_t first = lex.entry_offsets()[entry];
      const uint64_t n_cands = static_cast<uint64_t>(lex.entry_offsets()[entry + 1] - first);
      const int64_t cand = first + static_cast<int64_t>(
                                       rng::uniform_index(rng::draw(key, u, rng::kStreamCandidate), n_cands));
      const int32_t* tokens = lex.cand_tokens().data();
      const int64_t begin = lex.cand_offsets()[cand];
      const int64_t end = lex.cand_offsets()[cand + 1];
      out.ids.insert(out.ids.end(), tokens + begin, tokens + end);
      if (config_.provenance) {
        out.word_index.insert(out.word_index.end(), end - begin, static_cast<int32_t>(u));
        out.language.insert(out.language.end(), end - begin, static_cast<int8_t>(lang));
        out.switched.insert(out.switched.end(), end - begin, uint8_t{1});
      }
      u += matched;
    }
    if (static_cast<int64_t>(out.ids.size() - out_begin) > limit) {
      const size_t keep = out_begin + static_cast<size_t>(limit);
      out.ids.resize(keep);
      if (config_.provenance) {
        out.word_index.resize(keep);
        out.language.resize(keep);
        out.switched.resize(keep);
      }
    }
    if (keep_closing) emit_original(in, n - 1, n, n_units - 1, out);
    out.lengths.push_back(static_cast<int64_t>(out.ids.size() - out_begin));
  }

 private:
  void emit_original(const Id* in, int64_t begin, int64_t end, int64_t unit, ChunkOutput& out) const {
    for (int64_t i = begin; i < end; ++i) out.ids.push_back(static_cast<int32_t>(in[i]));
    if (config_.provenance) {
      out.word_index.insert(out.word_index.end(), end - begin, static_cast<int32_t>(unit));
      out.language.insert(out.language.end(), end - begin, int8_t{-1});
      out.switched.insert(out.switched.end(), end - begin, uint8_t{0});
    }
  }

  const uint8_t* token_class_;
  const std::vector<const CompiledLexicon*>& lexicons_;
  const SwitchConfig& config_;
  uint64_t threshold_;
};

}  // namespace

template <typename Id>
void validate_batch(const Id* ids, int64_t n_tokens, const int64_t* offsets, int64_t batch,
                    const int64_t* example_index, int64_t vocab_size, uint64_t fingerprint,
                    const std::vector<const CompiledLexicon*>& lexicons, const SwitchConfig& config) {
  if (!(config.p >= 0.0 && config.p <= 1.0)) fail("p must be in [0, 1], got " + std::to_string(config.p));
  if (config.max_length < 0) fail("max_length must be >= 0 (0: no truncation)");
  if (config.num_threads < 1 || config.num_threads > 1024) fail("num_threads must be in [1, 1024]");
  if (lexicons.empty()) fail("at least one lexicon is required");
  if (lexicons.size() > 127) fail("at most 127 languages are supported");
  if (config.language_cumulative.size() != lexicons.size()) {
    fail("language weights: " + std::to_string(config.language_cumulative.size()) + " thresholds for " +
         std::to_string(lexicons.size()) + " lexicons");
  }
  for (size_t k = 0; k < lexicons.size(); ++k) {
    if (lexicons[k] == nullptr) fail("lexicon " + std::to_string(k) + " is None");
    if (k > 0 && config.language_cumulative[k] < config.language_cumulative[k - 1]) {
      fail("language thresholds must be nondecreasing");
    }
    if (lexicons[k]->vocab_size() != vocab_size || lexicons[k]->fingerprint() != fingerprint) {
      fail("lexicon " + std::to_string(k) +
           " was compiled for another tokenizer (vocabulary fingerprint differs); recompile it");
    }
  }
  if (config.language_cumulative.back() != rng::kOne53) fail("the last language threshold must be 2^53");
  if (batch <= 0) fail("empty batch: at least one sequence is required");
  if (offsets[0] != 0) fail("offsets[0] must be 0");
  for (int64_t b = 0; b < batch; ++b) {
    if (offsets[b + 1] <= offsets[b]) {
      fail("sequence " + std::to_string(b) + " is empty (zero-length sequences are not allowed)");
    }
    if (example_index[b] < 0) fail("example index of sequence " + std::to_string(b) + " is negative");
  }
  if (offsets[batch] != n_tokens) {
    fail("offsets end at " + std::to_string(offsets[batch]) + " but there are " + std::to_string(n_tokens) +
         " tokens");
  }
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t i = offsets[b]; i < offsets[b + 1]; ++i) {
      if (ids[i] < 0 || ids[i] >= vocab_size) {
        fail("token id " + std::to_string(static_cast<int64_t>(ids[i])) + " at sequence " + std::to_string(b) +
             ", position " + std::to_string(i - offsets[b]) + " is outside the vocabulary [0, " +
             std::to_string(vocab_size) + ")");
      }
    }
  }
}

template <typename Id>
SwitchResult switch_batch(const Id* ids, int64_t n_tokens, const int64_t* offsets, int64_t batch,
                          const int64_t* example_index, const uint8_t* token_class,
                          int64_t vocab_size, uint64_t fingerprint,
                          const std::vector<const CompiledLexicon*>& lexicons,
                          const SwitchConfig& config) {
  validate_batch(ids, n_tokens, offsets, batch, example_index, vocab_size, fingerprint, lexicons, config);
  const ExampleSwitcher<Id> switcher(token_class, lexicons, config);

  // Chunks of consecutive examples, claimed dynamically; ~8 chunks per thread balance the load.
  const int64_t threads = std::min<int64_t>(config.num_threads, batch);
  const int64_t chunk_size = std::max<int64_t>(1, batch / (threads * 8));
  const int64_t n_chunks = (batch + chunk_size - 1) / chunk_size;
  std::vector<ChunkOutput> chunks(n_chunks);
  std::atomic<int64_t> next_chunk{0};
  auto worker = [&]() {
    Scratch scratch;
    for (int64_t c = next_chunk.fetch_add(1); c < n_chunks; c = next_chunk.fetch_add(1)) {
      ChunkOutput& out = chunks[c];
      const int64_t first = c * chunk_size;
      const int64_t last = std::min(batch, first + chunk_size);
      out.ids.reserve(static_cast<size_t>(offsets[last] - offsets[first]) * 5 / 4 + 16);
      for (int64_t b = first; b < last; ++b) {
        switcher.run(ids + offsets[b], offsets[b + 1] - offsets[b], static_cast<uint64_t>(example_index[b]),
                     scratch, out);
      }
    }
  };
  if (threads <= 1) {
    worker();
  } else {
    std::vector<std::thread> pool;
    std::vector<std::exception_ptr> errors(threads);
    for (int64_t t = 0; t < threads; ++t) {
      pool.emplace_back([&, t]() {
        try {
          worker();
        } catch (...) {
          errors[t] = std::current_exception();
        }
      });
    }
    for (auto& th : pool) th.join();
    for (auto& e : errors) {
      if (e) std::rethrow_exception(e);
    }
  }

  SwitchResult result;
  if (n_chunks == 1) {
    result.ids = std::move(chunks[0].ids);
    result.word_index = std::move(chunks[0].word_index);
    result.language = std::move(chunks[0].language);
    result.switched = std::move(chunks[0].switched);
  } else {
    size_t total = 0;
    for (const auto& c : chunks) total += c.ids.size();
    result.ids.reserve(total);
    if (config.provenance) {
      result.word_index.reserve(total);
      result.language.reserve(total);
      result.switched.reserve(total);
    }
    for (const auto& c : chunks) {
      result.ids.insert(result.ids.end(), c.ids.begin(), c.ids.end());
      if (config.provenance) {
        result.word_index.insert(result.word_index.end(), c.word_index.begin(), c.word_index.end());
        result.language.insert(result.language.end(), c.language.begin(), c.language.end());
        result.switched.insert(result.switched.end(), c.switched.begin(), c.switched.end());
      }
    }
  }
  result.offsets.resize(batch + 1);
  result.offsets[0] = 0;
  int64_t b = 0;
  for (const auto& c : chunks) {
    for (int64_t len : c.lengths) {
      result.offsets[b + 1] = result.offsets[b] + len;
      ++b;
    }
  }
  return result;
}

#define XCS_INSTANTIATE(Id)                                                                            \
  template void validate_batch<Id>(const Id*, int64_t, const int64_t*, int64_t, const int64_t*, int64_t, \
                                   uint64_t, const std::vector<const CompiledLexicon*>&,                \
                                   const SwitchConfig&);                                                \
  template SwitchResult switch_batch<Id>(const Id*, int64_t, const int64_t*, int64_t, const int64_t*,   \
                                         const uint8_t*, int64_t, uint64_t,                             \
                                         const std::vector<const CompiledLexicon*>&, const SwitchConfig&);
XCS_INSTANTIATE(int32_t)
XCS_INSTANTIATE(int64_t)
#undef XCS_INSTANTIATE

}  // namespace xcs
