import GardenFuzzing

#if FUZZING
#if canImport(Glibc)
import Glibc
#endif

/// libFuzzer's entry: the target named by `GARDEN_FUZZ_TARGET` (Scripts/fuzz.sh sets it).
private let target: FuzzTarget = {
    let name = getenv("GARDEN_FUZZ_TARGET").map { String(cString: $0) } ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        fatalError("GARDEN_FUZZ_TARGET must be one of \(FuzzTarget.allCases.map(\.rawValue))")
    }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    target.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}
#else
import Foundation

/// Without the fuzzer (a plain `swift build`): runs files through a target, to replay
/// what a fuzzer found. `garden-fuzz request-head crash-1234 ...`
@main
struct ReplayFuzzInputs {
    static func main() throws {
        let arguments = CommandLine.arguments.dropFirst()
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name) else {
            print("usage: garden-fuzz <\(FuzzTarget.allCases.map(\.rawValue).joined(separator: "|"))> <file>...")
            return
        }
        for path in arguments.dropFirst() {
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
            target.run(bytes)
            print("ok: \(path)")
        }
    }
}
#endif
