import Foundation
import Synchronization
import Testing

@testable import NumericCore

/// The thread team behind `parallel` (a team of the test's own, so that
/// other tests running at once do not find it busy): every index once per
/// call, each on its own thread, over many calls in a row (helpers spinning)
/// and after idle spells (helpers asleep); helpers take the caller's
/// floating-point control word. And `parallel` itself: a call from inside a
/// task, which finds the team busy, still runs everything (on Dispatch), with
/// the caller's control word.
@Suite struct ThreadTeamTests {
    @Test(arguments: [2, 3, 4])
    func everyIndexRunsOnceOnItsOwnThread(n: Int) {
        let team = ThreadTeam()
        for call in 0..<500 {
            let counts = UnsafeMutableBufferPointer<Int>.allocate(capacity: n)
            let threads = UnsafeMutableBufferPointer<UInt>.allocate(capacity: n)
            counts.initialize(repeating: 0)
            threads.initialize(repeating: 0)
            let ran = team.run(n) { i in
                counts[i] += 1
                threads[i] = UInt(bitPattern: Int(bitPattern: pthread_self()))
            }
            #expect(ran)
            #expect(Array(counts) == Array(repeating: 1, count: n), "call \(call)")
            #expect(Set(threads).count == n, "call \(call)")
            counts.deallocate()
            threads.deallocate()
        }
    }

    /// Idle for longer than the helpers spin (they fall asleep), then a call
    /// must wake them; a few rounds.
    @Test func helpersWakeFromSleep() {
        let team = ThreadTeam()
        for _ in 0..<5 {
            let idleUntil = DispatchTime.now().uptimeNanoseconds + 3_000_000
            while DispatchTime.now().uptimeNanoseconds < idleUntil {}
            let ran = Atomic<Int>(0)
            #expect(team.run(2) { _ in ran.add(1, ordering: .relaxed) })
            #expect(ran.load(ordering: .relaxed) == 2)
        }
    }

    @Test func aCallFromInsideATaskRunsEverything() {
        let previous = Kernels.floatControl()
        defer { Kernels.setFloatControl(previous) }
        Kernels.flushDenormals(true)
        let wanted = Kernels.floatControl()
        let ran = Atomic<Int>(0)
        let wrong = Atomic<Int>(0)
        parallel(2) { _ in
            parallel(3) { _ in
                ran.add(1, ordering: .relaxed)
                if Kernels.floatControl() != wanted { wrong.add(1, ordering: .relaxed) }
            }
        }
        #expect(ran.load(ordering: .relaxed) == 6)
        #expect(wrong.load(ordering: .relaxed) == 0)
    }

    @Test func helpersTakeTheCallersFloatControl() {
        let team = ThreadTeam()
        let previous = Kernels.floatControl()
        defer { Kernels.setFloatControl(previous) }
        for flush in [true, false, true] {
            Kernels.flushDenormals(flush)
            let wanted = Kernels.floatControl()
            let seen = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: 2)
            defer { seen.deallocate() }
            #expect(team.run(2) { seen[$0] = Kernels.floatControl() })
            #expect(Array(seen) == [wanted, wanted])
        }
    }
}
