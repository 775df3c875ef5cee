import ArgumentParser
import Foundation

/// `walled-garden init DIR`: an editable copy of the shipped Config/, Sites/ and Lessons/,
/// for a garden installed from its package (whose copies are read-only defaults).
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Make a folder with an editable copy of the shipped Config/, Sites/ and Lessons/.",
        discussion: """
        Then run the garden from that folder:
          walled-garden init ~/kwangmyong
          cd ~/kwangmyong && walled-garden
        The copies come from the installed defaults (/usr/share/walled-garden, beside the \
        installed binary) or, with --from, from another garden's folder.
        """
    )

    @Argument(help: ArgumentHelp("The folder to make (it must not hold a Config/ or Sites/ yet).", valueName: "dir"))
    var directory: String

    @Option(name: .long, help: ArgumentHelp("Copy from this folder instead of the installed defaults.", valueName: "dir"))
    var from: String?

    func run() throws {
        let files = FileManager.default
        guard let source = from ?? Self.installedDefaults() else {
            throw ValidationError("no installed Config/ and Sites/ found (looked in \(Self.candidates().joined(separator: ", "))); say where with --from")
        }
        for name in ["Config", "Sites"] where !files.fileExists(atPath: source + "/" + name) {
            throw ValidationError("\(source) has no \(name)/ to copy")
        }
        try files.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // The lessons come along when the source has them (an older garden may not).
        let names = ["Config", "Sites"] + (files.fileExists(atPath: source + "/Lessons") ? ["Lessons"] : [])
        for name in names {
            let target = directory + "/" + name
            guard !files.fileExists(atPath: target) else {
                throw ValidationError("\(target) exists already; init never overwrites a garden")
            }
            try files.copyItem(atPath: source + "/" + name, toPath: target)
            if name == "Config" { Self.leaveSecretsBehind(in: target) }
            try Self.makeWritable(target)
        }
        print("""
            Made \(names.map { "\(directory)/\($0)" }.joined(separator: ", ")) (copied from \(source)).
            Now:  cd \(directory) && walled-garden
            """)
    }

    /// The files of a garden that are its own, never another's: the desk's and the
    /// students' password hashes and the simulated sites' certificate authority (its key
    /// above all). A garden copied with `--from` makes its own at its first start.
    static let secrets = [
        "desk-password", "desk-password.new", "classroom-passwords", "classroom-passwords.new",
        "garden-ca.key", "garden-ca.key.new", "garden-ca.pem", "garden-ca.pem.new",
    ]

    static func leaveSecretsBehind(in config: String) {
        for name in secrets { try? FileManager.default.removeItem(atPath: config + "/" + name) }
    }

    /// Where a package puts the defaults: `../share/walled-garden` from the binary.
    static func candidates() -> [String] {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let prefix = binary.deletingLastPathComponent().deletingLastPathComponent()
        return [prefix.appendingPathComponent("share/walled-garden").path, "/usr/share/walled-garden"]
    }

    static func installedDefaults() -> String? {
        candidates().first { FileManager.default.fileExists(atPath: $0 + "/Config/garden.yaml") }
    }

    /// The package's copies are read-only; the teacher's must not be.
    static func makeWritable(_ path: String) throws {
        let files = FileManager.default
        let enumerator = files.enumerator(atPath: path)
        try files.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        while let item = enumerator?.nextObject() as? String {
            let full = path + "/" + item
            var isFolder: ObjCBool = false
            guard files.fileExists(atPath: full, isDirectory: &isFolder) else { continue }
            try files.setAttributes([.posixPermissions: isFolder.boolValue ? 0o755 : 0o644], ofItemAtPath: full)
        }
    }
}
