import Synchronization
import Testing

/// What a test started and must stop (its gardens, origins, desks), awaited before the
/// test counts as finished.
///
/// `defer` cannot await, so tests write `defer { afterTest { await garden.stop() } }`:
/// the stop runs as the test ends, and the suite trait `.stopsWhatItStarts` waits for it.
/// Without it every test left a task behind, and servers outlived their tests.
final class Teardown: Sendable {
    @TaskLocal static var current: Teardown?
    private let tasks = Mutex<[Task<Void, Never>]>([])

    func add(_ task: Task<Void, Never>) {
        tasks.withLock { $0.append(task) }
    }

    /// Waits for what the test started to stop; one that has not stopped within `limit`
    /// fails the test by name, instead of hanging the whole run (and CI with it).
    func drain(within limit: Duration = .seconds(60)) async {
        while let next = tasks.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) {
            if await !finishes(within: limit, { await next.value }) {
                Issue.record("what the test started did not stop within \(limit)")
            }
        }
    }
}

/// Runs `work` and waits for it at most `limit`: true if it finished in time. Work that
/// overruns is left running (it cannot be stopped from outside), but no longer waited for.
func finishes(within limit: Duration, _ work: @escaping @Sendable () async -> Void) async -> Bool {
    (try? await withinDeadline(limit, "work") { await work() }) != nil
}

/// `work`'s result, or an error once `limit` has passed (the work is left running).
func withinDeadline<T: Sendable>(
    _ limit: Duration, _ what: String, _ work: @escaping @Sendable () async throws -> T
) async throws -> T {
    let once = Once()
    return try await withCheckedThrowingContinuation { continuation in
        Task {
            do {
                let value = try await work()
                if once.claim() { continuation.resume(returning: value) }
            } catch {
                if once.claim() { continuation.resume(throwing: error) }
            }
        }
        Task {
            try? await Task.sleep(for: limit)
            if once.claim() { continuation.resume(throwing: DeadlinePassed(what: what, limit: limit)) }
        }
    }
}

/// What `withinDeadline` throws when its work overruns.
struct DeadlinePassed: Error, CustomStringConvertible {
    var what: String
    var limit: Duration
    var description: String { "\(what) did not finish within \(limit)" }
}

/// A flag that only one caller can claim.
final class Once: Sendable {
    private let claimed = Atomic<Bool>(false)

    /// True for the first caller only.
    func claim() -> Bool {
        !claimed.exchange(true, ordering: .acquiringAndReleasing)
    }

    /// Whether someone has claimed it.
    var isClaimed: Bool { claimed.load(ordering: .acquiring) }
}

/// Runs `work` now, in a task the test's scope waits for (see `Teardown`).
func afterTest(_ work: @escaping @Sendable () async -> Void) {
    let task = Task { await work() }
    Teardown.current?.add(task)
}

/// Each test of the suite ends only once what it started has stopped.
struct StopsWhatItStarts: SuiteTrait, TestTrait, TestScoping {
    var isRecursive: Bool { true }

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        let teardown = Teardown()
        do {
            try await Teardown.$current.withValue(teardown) { try await function() }
        } catch {
            await teardown.drain()
            throw error
        }
        await teardown.drain()
    }
}

extension Trait where Self == StopsWhatItStarts {
    /// Each test ends only once what it started (`afterTest`) has stopped.
    static var stopsWhatItStarts: Self { StopsWhatItStarts() }
}

/// The trait is in force where the suites name it: `afterTest` work is awaited.
@Suite(.stopsWhatItStarts) struct TeardownTests {
    @Test func aTestRunsInsideItsTeardownScope() {
        #expect(Teardown.current != nil)
    }

    @Test(arguments: [1, 2])
    func everyCaseOfATableHasItsOwnScope(_ value: Int) {
        #expect(Teardown.current != nil, "case \(value)")
    }

    /// A teardown that hangs is given up on after its limit, so it fails its test instead
    /// of holding the run; one that finishes is waited for.
    @Test func aHangingTeardownIsGivenUpOn() async {
        // (Bounds far apart: a loaded run has delayed a 200 ms timer by 10 s.)
        let start = ContinuousClock.now
        #expect(await !finishes(within: .milliseconds(200)) { try? await Task.sleep(for: .seconds(600)) })
        #expect(ContinuousClock.now - start < .seconds(300))
        #expect(await finishes(within: .seconds(30)) { try? await Task.sleep(for: .milliseconds(10)) })
    }
}
