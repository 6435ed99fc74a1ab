#pragma once

// A fixed number of slots, each holding a value, that answers "which slot holds the smallest
// value, and what is the second smallest" in constant time and takes a new value for one slot in
// O(log n). Equal values order by slot index, so the answer is the same as a scan from slot 0
// that keeps the first minimum. The look-ahead policy keeps one per typical pod (its least
// fragmentation growth on each node) and so updates only the nodes a decision changed instead
// of rescanning the cluster.

#include <cstddef>
#include <limits>
#include <utility>
#include <vector>

namespace meridian::scheduler {

class TwoSmallestTree {
 public:
  static constexpr double kEmpty = std::numeric_limits<double>::infinity();
  static constexpr size_t kNoSlot = std::numeric_limits<size_t>::max();

  // `slots` slots, all holding kEmpty.
  explicit TwoSmallestTree(size_t slots = 0) {
    leaves_ = 1;
    while (leaves_ < slots) leaves_ *= 2;
    tree_.assign(2 * leaves_, Node{});
  }

  // `slot` must be below the number of slots given at construction.
  void Set(size_t slot, double value) {
    size_t at = leaves_ + slot;
    tree_[at] = Node{Entry{value, slot}, Entry{}};
    for (at /= 2; at >= 1; at /= 2) tree_[at] = Merge(tree_[2 * at], tree_[2 * at + 1]);
  }

  // The slot with the smallest value (the lowest such slot), kNoSlot when all are empty.
  size_t smallest_slot() const { return tree_[1].first.value == kEmpty ? kNoSlot : tree_[1].first.slot; }
  double smallest() const { return tree_[1].first.value; }
  // The smallest value among the other slots (equal to smallest() when two slots share it).
  double second_smallest() const { return tree_[1].second.value; }

 private:
  struct Entry {
    double value = kEmpty;
    size_t slot = kNoSlot;
    bool operator<(const Entry& other) const {
      return value < other.value || (value == other.value && slot < other.slot);
    }
  };
  struct Node {
    Entry first;
    Entry second;
  };

  static Node Merge(const Node& a, const Node& b) {
    if (a.first < b.first) return Node{a.first, b.first < a.second ? b.first : a.second};
    return Node{b.first, a.first < b.second ? a.first : b.second};
  }

  size_t leaves_ = 1;
  std::vector<Node> tree_;  // 1-based heap layout; leaves from index leaves_
};

}  // namespace meridian::scheduler
