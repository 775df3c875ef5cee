import Foundation

/// Reading the class roster (`classroom.yaml`) and its password hashes
/// (`classroom-passwords`), and making the students accounts of the policy.
extension GardenConfig {
    /// The roster, checked against the policy's classes and accounts, with the students
    /// who have a password added to `policy.accounts`. Problems go to `sink`.
    static func parseRoster(_ source: Source, passwords: Source?, policy: inout Policy, sink: DiagnosticSink) -> ClassRoster {
        var roster = ClassRoster()
        // A file of comments only is an empty roster.
        let hasContent = source.text.split(separator: "\n").contains { line in
            let text = line.trimmingCharacters(in: .whitespaces)
            return !text.isEmpty && !text.hasPrefix("#")
        }
        guard hasContent, let root = ConfigNode.parse(source.text, file: source.file, sink: sink), !root.isEmptyMapping else { return roster }
        guard let keys = root.mapping("classroom.yaml", allowed: ["students", "session"], required: ["students"]) else { return roster }
        if let node = keys["session"], let lifetime = node.duration("session", in: .seconds(60)...(.seconds(7 * 24 * 3600))) {
            roster.sessionSeconds = Int(lifetime.components.seconds)
        }
        let classes = policy.classes
        let known = classes.keys.sorted()
        for (name, keyNode, value) in keys["students"]?.namedEntries("students") ?? [] {
            guard ClassRoster.isValidName(name) else {
                keyNode.error("'\(name)' cannot be a student's name: letters, digits, '-', '_' and '.' only (at most 40), as typed on the sign-in form")
                continue
            }
            if policy.accounts[name] != nil {
                keyNode.error("'\(name)' is already an account in policy.yaml; a student needs a name of their own")
                continue
            }
            guard let className = value.string("the class of '\(name)'") else { continue }
            if !classes.isEmpty, classes[className] == nil {
                value.error("unknown class '\(className)'\(Suggestion.phrase(for: className, among: known)); classes are \(known.map { "'\($0)'" }.joined(separator: ", "))")
                continue
            }
            roster.students.append(ClassRoster.Student(name: name, visitorClass: className))
        }
        if let passwords {
            let hashes = parsePasswordLines(passwords, roster: roster, sink: sink)
            for index in roster.students.indices {
                let student = roster.students[index]
                guard let hash = hashes[student.name] else { continue }
                roster.students[index].hasPassword = true
                policy.accounts[student.name] = Account(name: student.name, visitorClass: student.visitorClass, passwordHash: hash)
            }
        }
        return roster
    }

    /// `classroom-passwords`: `NAME HASH` a line (as `classroom passwords` writes it).
    /// A name the roster no longer has is passed over: the student left the class.
    private static func parsePasswordLines(_ source: Source, roster: ClassRoster, sink: DiagnosticSink) -> [String: PasswordHash] {
        var hashes: [String: PasswordHash] = [:]
        for (index, line) in source.text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.isEmpty || text.hasPrefix("#") { continue }
            let fields = text.split(separator: " ", omittingEmptySubsequences: true)
            func report(_ message: String) {
                sink.report(ConfigDiagnostic(file: source.file, line: index + 1, column: 1, message: message))
            }
            guard fields.count == 2 else {
                report("a line here is a student's name and a password hash; make new ones with walled-garden classroom passwords")
                continue
            }
            switch PasswordHash.parse(String(fields[1])) {
            case .success(let hash): hashes[String(fields[0])] = hash
            case .failure(let problem): report("the password of '\(fields[0])' \(problem); make new ones with walled-garden classroom passwords")
            }
        }
        return hashes
    }
}
