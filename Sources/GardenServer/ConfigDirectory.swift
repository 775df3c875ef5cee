import Foundation
import GardenPolicy

/// Reads the garden's configuration files from a folder such as `Config/`.
///
/// The only place config files touch the disk; parsing and checking are `GardenConfig`'s.
public struct ConfigDirectory: Sendable {
    /// The folder, as the user named it; diagnostics show paths relative to it.
    public var path: String
    /// The lesson running (`serve --lesson NAME`): its policy.yaml, lists, templates and
    /// switches stand in for the folder's own (see `source(of:)`).
    public var lesson: LessonPack?

    public init(path: String, lesson: LessonPack? = nil) {
        self.path = path
        self.lesson = lesson
    }

    /// The path of a file inside the folder.
    public func file(_ name: String) -> String {
        path.hasSuffix("/") ? path + name : path + "/" + name
    }

    /// Where `name` (`policy.yaml`, `lists/x.txt`, `templates/x.mustache`) is read from:
    /// the lesson's own, when it has one, else the folder's.
    public func source(of name: String) -> String {
        if let lesson, lesson.has(name) { return lesson.file(name) }
        return file(name)
    }

    /// The names in a subfolder (`lists`, `templates`) of the folder and of the lesson.
    func names(in subfolder: String) -> [String] {
        var names = Set((try? FileManager.default.contentsOfDirectory(atPath: file(subfolder))) ?? [])
        if let lesson { names.formUnion((try? FileManager.default.contentsOfDirectory(atPath: lesson.file(subfolder))) ?? []) }
        return names.filter { !$0.hasPrefix(".") }.sorted()
    }

    /// Where the desk keeps the switches' states: `switches.yaml`, or for a lesson
    /// `switches.NAME.yaml` (a lesson's policy has switches of its own).
    public var switchesFile: String {
        file(lesson.map { "switches.\($0.name).yaml" } ?? "switches.yaml")
    }

    /// The switches' states to read: the desk's file, else (for a lesson) the pack's
    /// starting states; nil when neither exists.
    var switchesSource: String? {
        if FileManager.default.fileExists(atPath: switchesFile) { return switchesFile }
        if let lesson, lesson.has("switches.yaml") { return lesson.file("switches.yaml") }
        return nil
    }

    /// Every file the configuration is read from, for the reloader's watch.
    public var watchedFiles: [String] {
        var files = ["garden.yaml", "sites.yaml", "classroom.yaml", "classroom-passwords", "desk-password"].map(file)
        files += ["policy.yaml"].map(source)
        if let switchesSource { files.append(switchesSource) } else { files.append(switchesFile) }
        files += names(in: "lists").filter { $0.hasSuffix(".txt") }.map { source(of: "lists/" + $0) }
        files += names(in: "templates").filter { $0.hasSuffix(".mustache") }.map { source(of: "templates/" + $0) }
        return files
    }

    /// Loads and checks `garden.yaml`, `sites.yaml`, and `policy.yaml` with the host lists
    /// of `lists/` when there is a policy (without one, everything is allowed), the class
    /// roster (`classroom.yaml`, `classroom-passwords`), and the page templates of `templates/`.
    ///
    /// - Throws: `ConfigErrors`, with a diagnostic for a missing or unreadable file.
    public func load() throws(ConfigErrors) -> GardenConfig {
        var problems: [ConfigDiagnostic] = []
        func read(_ name: String) -> GardenConfig.Source {
            readFile(file(name))
        }
        func readFile(_ file: String) -> GardenConfig.Source {
            guard let data = FileManager.default.contents(atPath: file) else {
                let reason = FileManager.default.fileExists(atPath: file) ? "cannot be read" : "file not found"
                problems.append(ConfigDiagnostic(file: file, line: 0, column: 0, message: reason))
                return GardenConfig.Source(file: file, text: "")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                problems.append(ConfigDiagnostic(file: file, line: 0, column: 0, message: "is not UTF-8 text"))
                return GardenConfig.Source(file: file, text: "")
            }
            return GardenConfig.Source(file: file, text: text)
        }
        let garden = read("garden.yaml")
        let sites = read("sites.yaml")
        var policy: GardenConfig.Source?
        var lists: [String: GardenConfig.Source] = [:]
        if FileManager.default.fileExists(atPath: source(of: "policy.yaml")) {
            policy = readFile(source(of: "policy.yaml"))
            for name in names(in: "lists") where name.hasSuffix(".txt") {
                lists[String(name.dropLast(4))] = readFile(source(of: "lists/" + name))
            }
        }
        // The switches' states, as the desk last wrote them (optional).
        let switches = switchesSource.map(readFile)
        // The class roster and the hashes of its passwords (both optional).
        let classroom = FileManager.default.fileExists(atPath: file("classroom.yaml")) ? read("classroom.yaml") : nil
        let classroomPasswords = FileManager.default.fileExists(atPath: classroomPasswordsFile) ? read("classroom-passwords") : nil
        var templates: [String: GardenConfig.Source] = [:]
        for name in names(in: "templates") where name.hasSuffix(".mustache") {
            templates[String(name.dropLast(".mustache".count))] = readFile(source(of: "templates/" + name))
        }
        if !problems.isEmpty { throw ConfigErrors(problems) }
        var config: GardenConfig
        var diagnostics: [ConfigDiagnostic] = []
        do {
            config = try GardenConfig.parse(
                garden: garden, sites: sites, policy: policy, lists: lists, switches: switches, classroom: classroom,
                classroomPasswords: classroomPasswords
            )
        } catch {
            diagnostics = error.diagnostics
            config = GardenConfig(listeners: [], sites: SiteRegistry(sites: [], portalHost: ""))
        }
        // Templates are checked even when the YAML has mistakes: one pass reports all.
        diagnostics += checkTemplates(templates, config: config)
        if var teacher = config.teacher, teacher.passwordHash == nil {
            switch readDeskPassword() {
            case .success(let hash): teacher.passwordHash = hash
            case .failure(let problem): diagnostics.append(problem)
            }
            config.teacher = teacher
        }
        if !diagnostics.isEmpty { throw ConfigErrors(diagnostics) }
        config.templates = templates
        return config
    }

    /// The templates' mistakes, and banners that rewrite effects ask for but no template gives.
    func checkTemplates(_ templates: [String: GardenConfig.Source], config: GardenConfig) -> [ConfigDiagnostic] {
        var diagnostics: [ConfigDiagnostic] = []
        do {
            let pages = try GardenPages(portalHost: config.sites.portalHost, templates: templates)
            // Banners named by rewrite effects must exist.
            for rule in config.policy.rules {
                for case .rewrite(let set) in rule.effects {
                    guard let banner = set.banner, !pages.bannerNames.contains(banner) else { continue }
                    let place = set.bannerLocation?.split(separator: ":").compactMap { Int($0) } ?? []
                    diagnostics.append(ConfigDiagnostic(
                        file: file("policy.yaml"), line: place.count >= 2 ? place[place.count - 2] : 0,
                        column: place.count >= 2 ? place[place.count - 1] : 0,
                        message: "rule '\(rule.id)' asks for the banner '\(banner)', but there is no \(file("templates/\(banner).mustache"))"
                            + Suggestion.phrase(for: banner, among: pages.bannerNames.sorted())
                    ))
                }
            }
        } catch {
            diagnostics += error.diagnostics
        }
        return diagnostics
    }

    /// The file holding the hash of the desk's password when garden.yaml gives none.
    public var deskPasswordFile: String { file("desk-password") }

    /// The hash in `desk-password`: nil when there is no such file (the first start makes it).
    public func readDeskPassword() -> Result<PasswordHash?, ConfigDiagnostic> {
        guard let data = FileManager.default.contents(atPath: deskPasswordFile) else { return .success(nil) }
        let line = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline)
            .first { !$0.hasPrefix("#") && !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        switch PasswordHash.parse(line.map { $0.trimmingCharacters(in: .whitespaces) } ?? "") {
        case .success(let hash): return .success(hash)
        case .failure(let problem):
            return .failure(ConfigDiagnostic(
                file: deskPasswordFile, line: 1, column: 1,
                message: "the desk's password \(problem); make a new one with walled-garden desk-password"
            ))
        }
    }

    /// Keeps `hash` as the desk's password: written to a new file (readable by its owner
    /// only) that then replaces `desk-password`, so a reader never sees half of it.
    public func writeDeskPassword(_ hash: PasswordHash) throws(ConfigErrors) {
        let text = "# The hash of the teacher's desk password; walled-garden desk-password makes a new one.\n\(hash)\n"
        try writeSecret(text, to: deskPasswordFile)
    }

    /// The file holding the hashes of the students' passwords (`classroom passwords`).
    public var classroomPasswordsFile: String { file("classroom-passwords") }

    /// Keeps the students' password hashes, one `NAME HASH` line each, replacing the file whole.
    public func writeClassroomPasswords(_ hashes: [(name: String, hash: PasswordHash)]) throws(ConfigErrors) {
        var text = "# The hashes of the students' passwords (classroom.yaml); walled-garden classroom passwords makes new ones.\n"
        for (name, hash) in hashes { text += "\(name) \(hash)\n" }
        try writeSecret(text, to: classroomPasswordsFile)
    }

    /// Writes `text` to a new file readable by its owner only, which then replaces `path`,
    /// so a reader (the reloader) never sees half of it.
    private func writeSecret(_ text: String, to path: String) throws(ConfigErrors) {
        try Self.writeWhole(text, to: path, permissions: 0o600)
    }

    /// Writes `text` to a new file with `permissions` (set as it is made: a secret is
    /// never readable by others, even for a moment), which then replaces `path`.
    static func writeWhole(_ text: String, to path: String, permissions: mode_t) throws(ConfigErrors) {
        let temporary = path + ".new"
        unlink(temporary)
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, permissions)
        var written = -1
        if descriptor >= 0 {
            written = Array(text.utf8).withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            close(descriptor)
        }
        guard written == text.utf8.count, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw ConfigErrors([ConfigDiagnostic(file: path, line: 0, column: 0, message: "cannot be written: \(reason)")])
        }
    }
}
