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

/// libFuzzer's driver, called from our own entry point: SwiftPM names an executable's
/// `main` after its module, so libFuzzer's `main` is never linked in.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

@main
struct FuzzMain {
    static func main() {
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(runFuzzerDriver(&argc, &argv) { data, size in fuzzOneInput(data, size) })
    }
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
