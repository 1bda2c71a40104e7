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

// Output of a contiguous chunk of examples, merged in example order at the end. The vectors are
// used as raw buffers: `size` counts the written tokens, capacity grows by doubling.
struct ChunkOutput {
  std::vector<int32_t> ids;
  std::vector<int32_t> word_index;
  std::vector<int8_t> language;
  std::vector<uint8_t> switched;
  std::vector<int64_t> lengths;
  size_t size = 0;
  bool provenance = false;

  void ensure(size_t extra) {
    const size_t needed = size + extra;
    if (needed <= ids.size()) return;
    const size_t capacity = std::max(needed, 2 * ids.size());
    ids.resize(capacity);
    if (provenance) {
      word_index.resize(capacity);
      language.resize(capacity);
      switched.resize(capacity);
    }
  }

  template <typename T>
  void append(const T* tokens, int64_t count, int64_t unit, int8_t lang, uint8_t flag) {
    ensure(static_cast<size_t>(count));
    int32_t* dst = ids.data() + size;
    for (int64_t i = 0; i < count; ++i) dst[i] = static_cast<int32_t>(tokens[i]);
    if (provenance) {
      std::fill_n(word_index.data() + size, count, static_cast<int32_t>(unit));
      std::fill_n(language.data() + size, count, lang);
      std::fill_n(switched.data() + size, count, flag);
    }
    size += static_cast<size_t>(count);
  }

  void finish() {
    ids.resize(size);
    if (provenance) {
      word_index.resize(size);
      language.resize(size);
      switched.resize(size);
    }
  }
};

// Reusable per-thread scratch of one example.
struct Scratch {
  std::vector<int64_t> unit_start;      // first position of each unit, then n
  std::vector<uint8_t> unit_class;      // kUnitWord, kUnitPunctuation, kUnitSpecial, kUnitSentenceEnd
  std::vector<int64_t> looked_up;       // units whose coin said "look up", in order
  std::vector<int8_t> looked_up_language;  // the lexicon each of them is looked up in

  void reserve(int64_t n) {
    if (unit_start.size() > static_cast<size_t>(n)) return;
    unit_start.resize(n + 1);
    unit_class.resize(n + 1);
    looked_up.resize(n + 1);
    looked_up_language.resize(n + 1);
  }
};

// Unit classes of the walk.
constexpr uint8_t kUnitWord = 0;
constexpr uint8_t kUnitPunctuation = 1;
constexpr uint8_t kUnitSpecial = 2;
constexpr uint8_t kUnitSentenceEnd = 3;

// The class of a unit that starts with a token of class `cls` (any value is safe: unknown ones are
// punctuation).
inline uint8_t unit_class_of(uint8_t cls) {
  if (cls <= kWordStart) return kUnitWord;
  if (cls == kSpecial) return kUnitSpecial;
  return cls == kSentenceEnd ? kUnitSentenceEnd : kUnitPunctuation;
}

// Case pattern of a word unit. kLower: its first cased letter is lower case; kCapital: the first is
// upper case and a later one lower case ("Paris", "McDonald"); kUpper: the first and all later ones
// upper case ("PARIS"); kLetter: a single upper-case letter ("I", "A").
enum UnitCase : uint8_t { kNoCase = 0, kLower, kCapital, kUpper, kLetter };

// The unit case of a one-token unit, by its case bits (what the loop below gives for n == 1).
constexpr uint8_t kTokenUnitCase[16] = {
    kNoCase, kLetter, kLower, kLetter, kNoCase, kUpper, kLower, kUpper,
    kNoCase, kCapital, kLower, kCapital, kNoCase, kCapital, kLower, kCapital,
};

template <typename Id>
uint8_t unit_case(const Id* tokens, int64_t n, const uint8_t* token_info) {
  if (n == 1) return kTokenUnitCase[(token_info[tokens[0]] >> kCaseShift) & 15];
  bool seen = false, first_upper = false, later_upper = false, later_lower = false;
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t bits = token_info[tokens[i]] >> kCaseShift;
    if (seen) {
      later_upper |= (bits & (kFirstUpper | kLaterUpper)) != 0;
      later_lower |= (bits & (kFirstLower | kLaterLower)) != 0;
    } else if (bits & (kFirstUpper | kFirstLower)) {
      seen = true;
      first_upper = (bits & kFirstUpper) != 0;
      later_upper = (bits & kLaterUpper) != 0;
      later_lower = (bits & kLaterLower) != 0;
    }
  }
  if (!seen) return kNoCase;
  if (!first_upper) return kLower;
  if (later_lower) return kCapital;
  return later_upper ? kUpper : kLetter;
}

template <typename Id>
class ExampleSwitcher {
 public:
  ExampleSwitcher(const uint8_t* token_info, const std::vector<const CompiledLexicon*>& lexicons,
                  const CompiledLexicon* stopwords, const SwitchConfig& config)
      : token_info_(token_info),
        lexicons_(lexicons),
        stopwords_(stopwords),
        config_(config),
        threshold_(rng::probability_threshold(config.p)),
        restricted_(stopwords != nullptr || config.protect_names) {}

  void run(const Id* in, int64_t n, uint64_t example, Scratch& scratch, ChunkOutput& out) const {
    const uint64_t key = rng::example_key(config_.seed, config_.epoch, example);
    scratch.reserve(n);
    int64_t* starts = scratch.unit_start.data();
    uint8_t* unit_classes = scratch.unit_class.data();
    int64_t* looked_up = scratch.looked_up.data();
    int8_t* languages = scratch.looked_up_language.data();
    const int64_t n_units = scan_units(in, n, starts, unit_classes);

    // Truncation keeps a closing special token: the body is everything before it.
    const bool keep_closing = config_.max_length > 0 && (token_info_[in[n - 1]] & kClassMask) == kSpecial;
    const int64_t body_units = keep_closing ? n_units - 1 : n_units;
    const size_t limit = config_.max_length <= 0 ? SIZE_MAX
                         : keep_closing        ? static_cast<size_t>(config_.max_length - 1)
                                               : static_cast<size_t>(config_.max_length);
    const size_t out_begin = out.size;
    const int64_t n_looked_up = list_lookups(in, key, starts, unit_classes, body_units, looked_up, languages);

    // Walk the looked-up units: the longest key found at a unit is replaced by one of its
    // translations, and the units before it are copied unchanged. The walk stops once the
    // output reaches the length limit (what is past it is cut below).
    int64_t copied = 0;  // first unit not yet in the output
    for (int64_t i = 0; i < n_looked_up; ++i) {
      const int64_t u = looked_up[i];
      if (u < copied) continue;  // inside a phrase switched already
      if (out.size - out_begin + static_cast<size_t>(starts[u] - starts[copied]) >= limit) break;
      const CompiledLexicon& lex = *lexicons_[static_cast<size_t>(languages[i])];
      int32_t matched = 0;
      const int32_t block = longest_match(lex, in, starts, unit_classes, u, body_units, matched);
      // a stopword or a protected name switches only as the start of a phrase (the longest match
      // is one unit only when no phrase key starts there)
      if (block < 0 || (matched == 1 && restricted_ && phrase_only(in, starts, unit_classes, u))) continue;
      const uint64_t cand = rng::uniform_index(rng::draw(key, u, rng::kStreamCandidate),
                                               static_cast<uint64_t>(lex.candidates(block)[0]));
      const uint64_t variant = config_.keep_case && lex.case_variants() > 1 ? case_variant(in, starts, u, matched) : 0;
      int64_t n_tokens = 0;
      const int32_t* tokens = lex.translation(block, cand, variant, n_tokens);
      copy_units(in, starts, copied, u, out);
      out.append(tokens, n_tokens, u, languages[i], 1);
      copied = u + matched;
    }
    // The rest, as far as the length limit needs (what is past the limit is cut).
    const size_t room = limit - std::min(limit, out.size - out_begin);
    const int64_t* last = starts + body_units;  // one past the last unit to copy
    if (room < static_cast<size_t>(*last - starts[copied])) {
      last = std::lower_bound<const int64_t*>(starts + copied, last, starts[copied] + static_cast<int64_t>(room));
    }
    copy_units(in, starts, copied, last - starts, out);
    if (out.size - out_begin > limit) out.size = out_begin + limit;
    if (keep_closing) out.append(in + n - 1, 1, n_units - 1, -1, 0);
    out.lengths.push_back(static_cast<int64_t>(out.size - out_begin));
  }

 private:
  // Word units: a unit starts at a word-start, punctuation or special token and after a punctuation
  // or special token, except that an attached apostrophe between a word token and a continuation
  // token joins the word unit ("don't" = "▁don" "'" "t" is one unit). Writes the first position of
  // each unit (then n) into `starts` and the unit classes; returns the number of units.
  int64_t scan_units(const Id* in, int64_t n, int64_t* starts, uint8_t* unit_classes) const {
    int64_t n_units = 0;
    bool boundary = true;
    for (int64_t pos = 0; pos < n; ++pos) {
      const uint8_t cls = token_info_[in[pos]] & kClassMask;
      if (cls == kApostrophe && !boundary && pos + 1 < n && (token_info_[in[pos + 1]] & kClassMask) == kContinuation) {
        continue;  // joins the word unit; the continuation after it too (boundary stays false)
      }
      if (cls != kContinuation || boundary) {
        starts[n_units] = pos;
        unit_classes[n_units] = unit_class_of(cls);
        ++n_units;
      }
      boundary = cls >= kPunctuation;
    }
    starts[n_units] = n;
    return n_units;
  }

  // A coin per word unit decides whether it is looked up. The units to look up are listed without
  // a branch (the coin is a 50/50 guess for the branch predictor), then each gets its lexicon (a
  // language drawn per unit in multilingual mode) and a prefetch of what its lookup will read, so
  // that the cache misses of the lookups overlap. Returns the number of listed units.
  int64_t list_lookups(const Id* in, uint64_t key, const int64_t* starts, const uint8_t* unit_classes,
                       int64_t body_units, int64_t* looked_up, int8_t* languages) const {
    int64_t n_looked_up = 0;
    for (int64_t v = 0; v < body_units; ++v) {
      looked_up[n_looked_up] = v;
      n_looked_up += unit_classes[v] == kUnitWord && (rng::draw(key, v, rng::kStreamCoin) >> 11) < threshold_;
    }
    for (int64_t i = 0; i < n_looked_up; ++i) {
      const int64_t v = looked_up[i];
      int8_t lang = 0;
      if (lexicons_.size() > 1) {
        const uint64_t d = rng::draw(key, v, rng::kStreamLanguage) >> 11;
        while (d >= config_.language_cumulative[static_cast<size_t>(lang)]) ++lang;
      }
      languages[i] = lang;
      lexicons_[static_cast<size_t>(lang)]->prefetch(in + starts[v], starts[v + 1] - starts[v]);
    }
    return n_looked_up;
  }

  // Candidate block of the longest key of `lex` starting at unit u (and its length in `matched`),
  // or -1.
  static int32_t longest_match(const CompiledLexicon& lex, const Id* in, const int64_t* starts,
                               const uint8_t* unit_classes, int64_t u, int64_t body_units, int32_t& matched) {
    const int64_t available = available_units(unit_classes, u, body_units, lex.max_units());
    const auto& lengths = lex.unit_lengths();
    for (size_t slot = 0; slot < lengths.size(); ++slot) {
      const int32_t len = lengths[slot];
      if (len > available || !lex.may_start(slot, in[starts[u]])) continue;
      const int32_t block = lex.find(in + starts[u], starts[u + len] - starts[u], len);
      if (block >= 0) {
        matched = len;
        return block;
      }
    }
    return -1;
  }

  // Whether unit u may only start a phrase: a stopword, or (protect_names) a protected name.
  bool phrase_only(const Id* in, const int64_t* starts, const uint8_t* unit_classes, int64_t u) const {
    const int64_t n = starts[u + 1] - starts[u];
    if (stopwords_ != nullptr && stopwords_->find(in + starts[u], n, 1) >= 0) return true;
    if (!config_.protect_names) return false;
    const uint8_t c = unit_case(in + starts[u], n, token_info_);
    return c != kNoCase && c != kLower && !starts_sentence(in, starts, unit_classes, u);
  }

  // Whether unit u starts a sentence: only punctuation between it and the start of the sequence, a
  // special token or a sentence-final punctuation unit — unless that one follows a one-letter
  // capital word (an initial: "J. Smith", "U.S. Army").
  bool starts_sentence(const Id* in, const int64_t* starts, const uint8_t* unit_classes, int64_t u) const {
    for (int64_t v = u - 1; v >= 0; --v) {
      const uint8_t cls = unit_classes[v];
      if (cls == kUnitWord) return false;
      if (cls == kUnitSpecial) return true;
      if (cls == kUnitSentenceEnd) {
        return v == 0 || unit_classes[v - 1] != kUnitWord ||
               unit_case(in + starts[v - 1], starts[v] - starts[v - 1], token_info_) != kLetter;
      }
    }
    return true;
  }

  // The translation variant of a switched span of `units` units at u: upper case when its cased
  // units are all upper case (and not all single letters), every word capitalised when two or more
  // cased units all start upper case, capitalised when the first cased unit does, else as written.
  uint64_t case_variant(const Id* in, const int64_t* starts, int64_t u, int32_t units) const {
    if (units == 1) {  // most switches: one cased unit at most, never every word capitalised
      static constexpr uint8_t kVariant[] = {kAsWritten, kAsWritten, kCapitalised, kUppercased, kCapitalised};
      return kVariant[unit_case(in + starts[u], starts[u + 1] - starts[u], token_info_)];
    }
    int64_t cased = 0;
    bool first_upper = false, all_start_upper = true, all_upper = true, any_upper = false;
    for (int64_t v = u; v < u + units; ++v) {
      const uint8_t c = unit_case(in + starts[v], starts[v + 1] - starts[v], token_info_);
      if (c == kNoCase) continue;
      if (cased++ == 0) first_upper = c != kLower;
      all_start_upper &= c != kLower;
      all_upper &= c == kUpper || c == kLetter;
      any_upper |= c == kUpper;
    }
    if (cased == 0 || !first_upper) return kAsWritten;
    if (all_upper && any_upper) return kUppercased;
    return cased >= 2 && all_start_upper ? kTitled : kCapitalised;
  }

  // Copies units [first, last) unchanged: one run, or unit by unit when provenance records them.
  void copy_units(const Id* in, const int64_t* starts, int64_t first, int64_t last, ChunkOutput& out) const {
    if (!config_.provenance) {
      out.append(in + starts[first], starts[last] - starts[first], 0, -1, 0);
      return;
    }
    for (int64_t v = first; v < last; ++v) out.append(in + starts[v], starts[v + 1] - starts[v], v, -1, 0);
  }

  // Units a phrase starting at u may span: consecutive non-special units, at most max_units.
  static int64_t available_units(const uint8_t* unit_classes, int64_t u, int64_t body_units, int64_t max_units) {
    int64_t available = 0;
    while (available < max_units && u + available < body_units && unit_classes[u + available] != kUnitSpecial) {
      ++available;
    }
    return available;
  }

  const uint8_t* token_info_;
  const std::vector<const CompiledLexicon*>& lexicons_;
  const CompiledLexicon* stopwords_;
  const SwitchConfig& config_;
  uint64_t threshold_;
  bool restricted_;  // stopwords or protected names: some units switch only as a phrase start
};

}  // namespace

template <typename Id>
void validate_batch(const Id* ids, int64_t n_tokens, const int64_t* offsets, int64_t batch,
                    const int64_t* example_index, int64_t vocab_size, uint64_t fingerprint,
                    const std::vector<const CompiledLexicon*>& lexicons, const CompiledLexicon* stopwords,
                    const SwitchConfig& config) {
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
  if (stopwords != nullptr && (stopwords->vocab_size() != vocab_size || stopwords->fingerprint() != fingerprint)) {
    fail("the stopword set was compiled for another tokenizer (vocabulary fingerprint differs); recompile it");
  }
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
                          const int64_t* example_index, const uint8_t* token_info,
                          int64_t vocab_size, uint64_t fingerprint,
                          const std::vector<const CompiledLexicon*>& lexicons,
                          const CompiledLexicon* stopwords, const SwitchConfig& config) {
  validate_batch(ids, n_tokens, offsets, batch, example_index, vocab_size, fingerprint, lexicons, stopwords, config);
  const ExampleSwitcher<Id> switcher(token_info, lexicons, stopwords, config);

  // Chunks of consecutive examples, claimed dynamically; ~8 chunks per thread balance the load.
  const int64_t threads = std::min<int64_t>(config.num_threads, batch);
  const int64_t chunk_size = threads <= 1 ? batch : std::max<int64_t>(1, batch / (threads * 8));
  const int64_t n_chunks = (batch + chunk_size - 1) / chunk_size;
  std::vector<ChunkOutput> chunks(n_chunks);
  std::atomic<int64_t> next_chunk{0};
  auto worker = [&]() {
    Scratch scratch;
    for (int64_t c = next_chunk.fetch_add(1); c < n_chunks; c = next_chunk.fetch_add(1)) {
      ChunkOutput& out = chunks[c];
      const int64_t first = c * chunk_size;
      const int64_t last = std::min(batch, first + chunk_size);
      out.provenance = config.provenance;
      out.lengths.reserve(static_cast<size_t>(last - first));
      out.ensure(static_cast<size_t>(offsets[last] - offsets[first]) * 5 / 4 + 16);
      for (int64_t b = first; b < last; ++b) {
        switcher.run(ids + offsets[b], offsets[b + 1] - offsets[b], static_cast<uint64_t>(example_index[b]),
                     scratch, out);
      }
      out.finish();
    }
  };
  if (threads <= 1) {
    worker();
  } else {
    std::vector<std::thread> pool;
    std::vector<std::exception_ptr> errors(threads);
    try {
      for (int64_t t = 0; t < threads; ++t) {
        pool.emplace_back([&, t]() {
          try {
            worker();
          } catch (...) {
            errors[t] = std::current_exception();
          }
        });
      }
    } catch (...) {
      // A thread could not be started (std::system_error): destroying a joinable std::thread
      // would call std::terminate, so stop handing out chunks, join the started ones, rethrow.
      next_chunk.store(n_chunks);
      for (auto& th : pool) th.join();
      throw;
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
                                   const CompiledLexicon*, const SwitchConfig&);                        \
  template SwitchResult switch_batch<Id>(const Id*, int64_t, const int64_t*, int64_t, const int64_t*,   \
                                         const uint8_t*, int64_t, uint64_t,                             \
                                         const std::vector<const CompiledLexicon*>&, const CompiledLexicon*, \
                                         const SwitchConfig&);
XCS_INSTANTIATE(int32_t)
XCS_INSTANTIATE(int64_t)
#undef XCS_INSTANTIATE

}  // namespace xcs
