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

    func drain() async {
        while let next = tasks.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) {
            await next.value
        }
    }
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
}
