import Foundation
import Synchronization

/// Runs `body(0)`, …, `body(n − 1)` at once on the calling thread and n − 1
/// helper threads, and returns when all are done.
///
/// The helpers are plain threads that stay for the process's life: after a
/// task each spins for about half a millisecond waiting for the next, then
/// sleeps until woken. Training starts three short parallel regions per batch
/// (its preparation, the workers' shares, then Adam), close together, so the
/// helpers are as a rule still spinning when the next starts. Dispatch's
/// `concurrentPerform` took 85–160 µs longer than the work itself per call on
/// a 2-core KVM Xeon (its second thread woke late); this team adds a few
/// microseconds, and the tutorial MLP trains about 6 % faster on it. Each helper runs with the caller's
/// floating-point control word (flush-to-zero included), so a task computes
/// the same bits on whichever thread runs it. A call made while the team is
/// busy (from inside a task, or from another thread) runs on Dispatch instead.
/// Waiting threads yield the core after a short spin, so more threads than
/// cores still make progress.
public func parallel(_ n: Int, _ body: (Int) -> Void) {
    if n <= 1 { return body(0) }
    if !ThreadTeam.shared.run(n, body) {
        withoutActuallyEscaping(body) { body in
            let work = IndexedWork(body: body)
            let control = Kernels.floatControl()
            DispatchQueue.concurrentPerform(iterations: n) {
                let previous = Kernels.floatControl()
                if previous != control { Kernels.setFloatControl(control) }
                work.body($0)
                if previous != control { Kernels.setFloatControl(previous) }
            }
        }
    }
}

/// A body shared with other threads for one `parallel` call's duration.
private struct IndexedWork: @unchecked Sendable {
    let body: (Int) -> Void
}

/// The helper threads behind `parallel` (see there).
final class ThreadTeam: @unchecked Sendable {
    static let shared = ThreadTeam()

    /// Set while a call runs (a second caller falls back to Dispatch).
    private let busy = Atomic<Bool>(false)
    /// Bumped once per call; helpers wait for it to change.
    private let generation = Atomic<Int>(0)
    /// Helpers done with the current call.
    private let done = Atomic<Int>(0)
    /// The current call's task, its thread count and the caller's control word:
    /// written before `generation` is bumped, read by the helpers after they see it.
    private nonisolated(unsafe) var task: IndexedWork?
    private nonisolated(unsafe) var taskCount = 0
    private nonisolated(unsafe) var control: UInt32 = 0
    /// Helpers started so far; guarded by `busy` (only the caller holding it adds more).
    private nonisolated(unsafe) var helpers = 0
    /// Sleeping helpers wait on this; `sleepers` counts them (guarded by the condition's lock).
    private let wake = NSCondition()
    private nonisolated(unsafe) var sleepers = 0

    /// Runs the call on the team; false (and nothing run) when the team is busy.
    func run(_ n: Int, _ body: (Int) -> Void) -> Bool {
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return false }
        defer { busy.store(false, ordering: .releasing) }
        while helpers < n - 1 { startHelper(index: helpers + 1) }
        withoutActuallyEscaping(body) { body in
            task = IndexedWork(body: body)
            taskCount = n
            control = Kernels.floatControl()
            done.store(0, ordering: .relaxed)
            generation.add(1, ordering: .releasing)
            wake.lock()
            if sleepers > 0 { wake.broadcast() }
            wake.unlock()
            body(0)
            // Every helper counts itself done, also those beyond n (they run nothing).
            var spins = 0
            while done.load(ordering: .acquiring) < helpers {
                spins += 1
                // More threads than cores: let a helper have this one.
                if spins > 1000 { sched_yield() }
            }
            task = nil
        }
        return true
    }

    private func startHelper(index: Int) {
        helpers += 1
        let seen = generation.load(ordering: .acquiring)
        let thread = Thread { [self] in helperLoop(index: index, seen: seen) }
        thread.stackSize = 8 << 20
        thread.name = "zoo-team-\(index)"
        thread.start()
    }

    private func helperLoop(index: Int, seen start: Int) {
        var seen = start
        while true {
            seen = nextGeneration(after: seen)
            if index < taskCount, let task {
                let mine = Kernels.floatControl()
                if mine != control { Kernels.setFloatControl(control) }
                task.body(index)
            }
            done.add(1, ordering: .releasing)
        }
    }

    /// Waits for a generation after `seen`: spinning for about 0.5 ms, then asleep.
    private func nextGeneration(after seen: Int) -> Int {
        let deadline = DispatchTime.now().uptimeNanoseconds + 500_000
        var spins = 0
        while true {
            let g = generation.load(ordering: .acquiring)
            if g != seen { return g }
            spins += 1
            if spins > 1000 { sched_yield() }
            if spins & 1023 == 0, DispatchTime.now().uptimeNanoseconds > deadline { break }
        }
        wake.lock()
        defer { wake.unlock() }
        while true {
            let g = generation.load(ordering: .acquiring)
            if g != seen { return g }
            sleepers += 1
            wake.wait()
            sleepers -= 1
        }
    }
}
