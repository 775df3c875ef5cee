import Foundation
import GardenPolicy

/// Reads the garden's configuration files from a folder such as `Config/`.
///
/// The only place config files touch the disk; parsing and checking are `GardenConfig`'s.
public struct ConfigDirectory: Sendable {
    /// The folder, as the user named it; diagnostics show paths relative to it.
    public var path: String

    public init(path: String) {
        self.path = path
    }

    /// The path of a file inside the folder.
    public func file(_ name: String) -> String {
        path.hasSuffix("/") ? path + name : path + "/" + name
    }

    /// Loads and checks `garden.yaml` and `sites.yaml`.
    ///
    /// - Throws: `ConfigErrors`, with a diagnostic for a missing or unreadable file.
    public func load() throws(ConfigErrors) -> GardenConfig {
        var missing: [ConfigDiagnostic] = []
        func read(_ name: String) -> GardenConfig.Source {
            let file = file(name)
            guard let data = FileManager.default.contents(atPath: file) else {
                let reason = FileManager.default.fileExists(atPath: file) ? "cannot be read" : "file not found"
                missing.append(ConfigDiagnostic(file: file, line: 0, column: 0, message: reason))
                return GardenConfig.Source(file: file, text: "")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                missing.append(ConfigDiagnostic(file: file, line: 0, column: 0, message: "is not UTF-8 text"))
                return GardenConfig.Source(file: file, text: "")
            }
            return GardenConfig.Source(file: file, text: text)
        }
        let garden = read("garden.yaml")
        let sites = read("sites.yaml")
        if !missing.isEmpty { throw ConfigErrors(missing) }
        return try GardenConfig.parse(garden: garden, sites: sites)
    }
}
