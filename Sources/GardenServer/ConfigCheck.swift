import GardenPolicy
import GardenSites
import Logging

/// What `walled-garden check` found: like `nginx -t`, everything the garden would load at
/// start, loaded without serving.
public struct ConfigCheck: Sendable {
    /// Problems that would stop the garden from starting, each `file:line:column: message`
    /// where the place is known.
    public var errors: [String] = []
    /// Things the garden would skip while serving (a link leaving a site folder, say).
    public var warnings: [String] = []
    /// One line per checked part, for the summary.
    public var summary: [String] = []

    /// Whether the garden would start.
    public var passed: Bool { errors.isEmpty }

    /// Checks the configuration folder and the sites it names.
    public static func run(configDirectory: String, sitesDirectory: String) -> ConfigCheck {
        var check = ConfigCheck()
        let directory = ConfigDirectory(path: configDirectory)
        let config: GardenConfig
        do {
            config = try directory.load()
        } catch {
            check.errors = error.diagnostics.map(\.description)
            return check
        }
        let zones = Dictionary(grouping: config.sites.sites, by: \.zone)
        check.summary.append(
            "\(directory.file("garden.yaml")), \(directory.file("sites.yaml")): ok — "
                + "\(config.sites.sites.count) sites (\(zones[.intranet]?.count ?? 0) intranet, "
                + "\(zones[.internet]?.count ?? 0) internet), portal \(config.sites.portalHost), "
                + "listening on \(config.listeners.map(\.address.description).joined(separator: ", "))"
        )
        let policy = config.policy
        check.summary.append(
            "policy: \(policy.classes.count) visitor classes (default \(policy.defaultClass)), "
                + "\(policy.rules.count) rules, otherwise \(policy.defaultAction)"
        )
        var fileCount = 0
        for site in config.sites.sites {
            let folder = sitesDirectory.hasSuffix("/") ? sitesDirectory + site.folder : sitesDirectory + "/" + site.folder
            do {
                let (loaded, warnings) = try SiteLoader.load(folder: folder)
                check.warnings += warnings
                fileCount += loaded.content.files.count
                if loaded.content.files["index.html"] == nil {
                    check.warnings.append("\(folder): no index.html, so http://\(site.host)/ answers 404")
                }
            } catch {
                check.errors.append("\(error) (site \(site.host) in \(directory.file("sites.yaml")))")
            }
        }
        if check.errors.isEmpty {
            check.summary.append("\(sitesDirectory): ok — \(fileCount) files in \(config.sites.sites.count) site folders")
        }
        return check
    }
}
