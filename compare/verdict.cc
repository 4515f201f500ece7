#include "compare/verdict.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <utility>

#include "common/report/table.h"

namespace anchorage::compare {
namespace {

using report::FormatNumber;

std::string Num(double value) {
  return FormatNumber(value, 3);
}

std::string Seconds(double value) {
  return Num(value) + " s";
}

std::string Megabytes(int64_t bytes) {
  return Num(static_cast<double>(bytes) / 1e6) + " MB";
}

// "a", "a and b", "a, b and c".
std::string JoinAnd(const std::vector<std::string>& parts) {
  std::string text;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) text += i + 1 == parts.size() ? " and " : ", ";
    text += parts[i];
  }
  return text;
}

// The runs ordered by a key, best first; ties keep series order.
template <typename Key>
std::vector<const RunOutcome*> Ranked(std::vector<const RunOutcome*> runs,
                                      Key key) {
  std::stable_sort(runs.begin(), runs.end(),
                   [&](const RunOutcome* a, const RunOutcome* b) {
                     return key(*a) < key(*b);
                   });
  return runs;
}

double LossOrWorst(const RunOutcome& run) {
  return std::isfinite(run.summary.train_loss)
             ? run.summary.train_loss
             : std::numeric_limits<double>::infinity();
}

// Sentence on the time blocked at sync points, winner first.
std::string SyncWaitSentence(const std::vector<const RunOutcome*>& ranked) {
  const RunOutcome& winner = *ranked.front();
  double longest = 0;
  for (const RunOutcome* run : ranked) {
    longest = std::max(longest, run->summary.sync_wait_seconds_mean);
  }
  if (longest < 1e-3) {
    return " No run waited at sync points, so the difference is progress "
           "per step, not communication.";
  }
  std::vector<std::string> others;
  for (size_t i = 1; i < ranked.size(); ++i) {
    others.push_back(Seconds(ranked[i]->summary.sync_wait_seconds_mean) +
                     " for " + ranked[i]->label);
  }
  std::string text = " " + winner.label + "'s workers spent " +
                     Seconds(winner.summary.sync_wait_seconds_mean) +
                     " each blocked at sync points over the run";
  if (!others.empty()) text += ", against " + JoinAnd(others);
  return text + ".";
}

// "No run reaches 0.8 ...; B ends closest at 0.78 (A 0.75)." and the waits.
std::string NobodyReachedVerdict(
    const std::vector<const RunOutcome*>& by_accuracy, double target) {
  std::string text = "No run reaches " + Num(target) +
                     " test accuracy within the budget; " +
                     by_accuracy.front()->label + " ends closest at " +
                     Num(by_accuracy.front()->summary.test_accuracy);
  std::vector<std::string> others;
  for (size_t i = 1; i < by_accuracy.size(); ++i) {
    others.push_back(by_accuracy[i]->label + " " +
                     Num(by_accuracy[i]->summary.test_accuracy));
  }
  if (!others.empty()) text += " (" + JoinAnd(others) + ")";
  return text + "." + SyncWaitSentence(by_accuracy);
}

// "A reaches 0.8 first: 3 s vs 5 s for B (1.67×); C never does." `ranked`
// holds the runs that reach `target`, fastest first.
std::string RaceSentence(const std::vector<const RunOutcome*>& ranked,
                         const std::vector<std::string>& never, double target) {
  const double winner_time = *TimeToTarget(ranked.front()->trace, target);
  // Runs reaching the target within 0.1% of the same time are tied (the
  // virtual clock leaves rounding residue in equal times).
  size_t tied = 1;
  while (tied < ranked.size() &&
         *TimeToTarget(ranked[tied]->trace, target) <= winner_time * 1.001) {
    ++tied;
  }
  std::vector<std::string> names;
  for (size_t i = 0; i < tied; ++i) {
    names.push_back(ranked[i]->label);
  }
  std::string text =
      tied == 1
          ? names.front() + " reaches " + Num(target) + " first: "
          : JoinAnd(names) + " reach " + Num(target) + " at the same time, ";
  text += Seconds(winner_time);
  std::vector<std::string> others;
  for (size_t i = tied; i < ranked.size(); ++i) {
    const double time = *TimeToTarget(ranked[i]->trace, target);
    std::string other = Seconds(time) + " for " + ranked[i]->label;
    if (winner_time > 0) {
      other += " (" + FormatNumber(time / winner_time, 3) + "×)";
    }
    others.push_back(std::move(other));
  }
  if (!others.empty()) text += " vs " + JoinAnd(others);
  if (!never.empty()) {
    text += "; " + JoinAnd(never) +
            (never.size() == 1 ? " never does" : " never do");
  }
  return text + ".";
}

// Epochs and bytes to the target of the winner and the runner-up: they
// separate statistical efficiency (fewer epochs) from hidden communication
// (less waiting).
std::string WorkSentence(const RunOutcome& winner, const RunOutcome& second,
                         double target) {
  const TracePoint& mine =
      winner.trace[*FirstPointAtTarget(winner.trace, target)];
  const TracePoint& theirs =
      second.trace[*FirstPointAtTarget(second.trace, target)];
  return " " + winner.label + " got there after " + Num(mine.epoch) +
         " epochs and " + Megabytes(mine.bytes_up) + " sent to the server (" +
         second.label + ": " + Num(theirs.epoch) + " epochs, " +
         Megabytes(theirs.bytes_up) + ").";
}

std::string TimeVerdict(const std::vector<const RunOutcome*>& runs,
                        double target) {
  std::vector<const RunOutcome*> reached;
  std::vector<std::string> never;
  for (const RunOutcome* run : runs) {
    if (TimeToTarget(run->trace, target)) {
      reached.push_back(run);
    } else {
      never.push_back(run->label);
    }
  }
  const std::vector<const RunOutcome*> by_accuracy = Ranked(
      runs, [](const RunOutcome& r) { return -r.summary.test_accuracy; });
  if (reached.empty()) return NobodyReachedVerdict(by_accuracy, target);
  const std::vector<const RunOutcome*> ranked = Ranked(
      reached,
      [&](const RunOutcome& r) { return *TimeToTarget(r.trace, target); });
  const RunOutcome& winner = *ranked.front();
  std::string text = RaceSentence(ranked, never, target);
  // The waits of every run, those that reached the target first.
  std::vector<const RunOutcome*> wait_order = ranked;
  for (const RunOutcome* run : runs) {
    if (std::find(wait_order.begin(), wait_order.end(), run) ==
        wait_order.end()) {
      wait_order.push_back(run);
    }
  }
  text += SyncWaitSentence(wait_order);
  if (ranked.size() > 1) text += WorkSentence(winner, *ranked[1], target);
  if (runs.size() > 1) {
    const RunOutcome& best_final = *by_accuracy.front();
    text += " At the end of the budget " + best_final.label +
            (&best_final == &winner ? " is still ahead" : " leads") + " with " +
            Num(best_final.summary.test_accuracy) +
            " test accuracy (next: " + by_accuracy[1]->label + " " +
            Num(by_accuracy[1]->summary.test_accuracy) + ").";
  }
  return text;
}

std::string LossVerdict(const std::vector<const RunOutcome*>& runs) {
  const std::vector<const RunOutcome*> ranked = Ranked(runs, LossOrWorst);
  const RunOutcome& winner = *ranked.front();
  std::string text = winner.label + " reaches the lowest training loss, " +
                     Num(winner.summary.train_loss);
  std::vector<std::string> others;
  for (size_t i = 1; i < ranked.size(); ++i) {
    const RunOutcome& other = *ranked[i];
    std::string entry = Num(other.summary.train_loss) + " for " + other.label;
    if (std::isfinite(other.summary.train_loss) &&
        std::isfinite(winner.summary.train_loss) &&
        winner.summary.train_loss > 0) {
      const double higher =
          100.0 * (other.summary.train_loss / winner.summary.train_loss - 1.0);
      entry += " (" + FormatNumber(higher, 2) + "% higher)";
    }
    others.push_back(entry);
  }
  if (!others.empty()) text += ", vs " + JoinAnd(others);
  // The step sizes matter only when they differ (tuned per run).
  if (ranked.size() > 1 && ranked[1]->lr != winner.lr) {
    text += ", with step size " + FormatNumber(winner.lr, 3) + " (" +
            ranked[1]->label + ": " + FormatNumber(ranked[1]->lr, 3) + ")";
  }
  text += ".";
  const std::vector<const RunOutcome*> by_accuracy = Ranked(
      runs, [](const RunOutcome& r) { return -r.summary.test_accuracy; });
  if (runs.size() > 1) {
    if (by_accuracy.front() == &winner) {
      text += " It also has the highest test accuracy, " +
              Num(winner.summary.test_accuracy) + " (" + by_accuracy[1]->label +
              " " + Num(by_accuracy[1]->summary.test_accuracy) + ").";
    } else {
      text += " On the test set, though, " + by_accuracy.front()->label +
              " is ahead: " + Num(by_accuracy.front()->summary.test_accuracy) +
              " accuracy vs " + Num(winner.summary.test_accuracy) + ".";
    }
  }
  return text;
}

}  // namespace

std::string Verdict(const std::vector<const RunOutcome*>& runs, KeyMetric key,
                    double target_accuracy) {
  if (runs.empty()) return "";
  if (key == KeyMetric::kFinalTrainLoss) return LossVerdict(runs);
  return TimeVerdict(runs, target_accuracy);
}

}  // namespace anchorage::compare
