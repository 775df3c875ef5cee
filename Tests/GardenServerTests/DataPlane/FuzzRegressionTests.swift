import Foundation
import GardenFuzzing
import Testing

/// Every input in `Fuzz/corpus/` — the seeds, and anything a fuzzer found that crashed
/// a target (kept there as a regression) — runs through its target without a crash or
/// a broken promise, in every `swift test`.
@Suite(.stopsWhatItStarts) struct FuzzRegressionTests {
    static let corpus = Shipped.repository.appendingPathComponent("Fuzz/corpus")

    @Test(arguments: FuzzTarget.allCases)
    func theCorpusRunsClean(target: FuzzTarget) throws {
        let folder = Self.corpus.appendingPathComponent(target.rawValue)
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { !$0.hasPrefix(".") }.sorted()
        #expect(!names.isEmpty, "no seeds in \(folder.path)")
        for name in names {
            target.run(try [UInt8](Data(contentsOf: folder.appendingPathComponent(name))))
        }
    }
}
