import Foundation

/// The shipped `Config/` and `Sites/` as git has them (committed, or staged with `git
/// add`), exported once per test run into a folder of its own.
///
/// Tests of the shipped files read this copy, not the working folders: a teacher editing
/// `Config/` for Tuesday's lesson (or halfway through saving a file) must not make
/// `swift test` fail or crash. Outside a git checkout (a source archive), the working
/// folders are the shipped ones.
enum Shipped {
    static let repository = URL(fileURLWithPath: #filePath)  // Tests/GardenServerTests/Support/Shipped.swift
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The folder holding `Config/`, `Sites/` and `Lessons/`.
    static let root: URL = {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("garden-shipped-\(UUID().uuidString)")
        let export = Process()
        export.executableURL = URL(fileURLWithPath: "/bin/sh")
        export.arguments = ["-c", "git -C \"$1\" ls-files -z -- Config Sites Lessons | git -C \"$1\" checkout-index -z --stdin --prefix=\"$2/\"", "sh",
                            repository.path, folder.path]
        export.standardError = FileHandle.nullDevice
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try export.run()
            export.waitUntilExit()
        } catch {
            return repository
        }
        let exported = FileManager.default.fileExists(atPath: folder.appendingPathComponent("Config/garden.yaml").path)
        return export.terminationStatus == 0 && exported ? folder : repository
    }()

    static var config: URL { root.appendingPathComponent("Config") }
    static var sites: URL { root.appendingPathComponent("Sites") }
    static var lessons: URL { root.appendingPathComponent("Lessons") }
}
