import Foundation
import GardenPolicy

/// A lesson pack: a folder of `Lessons/` (`Lessons/NAME/`) with its `lesson.yaml`. Its
/// `policy.yaml`, `lists/`, `templates/` and `switches.yaml` stand in for the garden's
/// own while the lesson runs (`ConfigDirectory.lesson`); garden.yaml, sites.yaml and the
/// class roster stay the teacher's.
public struct LessonPack: Sendable, Equatable {
    /// The folder's name, as `--lesson` takes it.
    public var name: String
    /// The pack's folder.
    public var folder: String
    public var manifest: LessonManifest

    /// The path of a file inside the pack.
    public func file(_ name: String) -> String {
        folder.hasSuffix("/") ? folder + name : folder + "/" + name
    }

    /// Whether the pack has its own `name` (a file or a folder).
    public func has(_ name: String) -> Bool {
        FileManager.default.fileExists(atPath: file(name))
    }

    /// Every pack in `lessonsDirectory` (folders with a `lesson.yaml`), by name; packs
    /// whose lesson.yaml has mistakes are left out, their mistakes returned.
    public static func all(in lessonsDirectory: String) -> (packs: [LessonPack], problems: [ConfigDiagnostic]) {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: lessonsDirectory)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
        var packs: [LessonPack] = []
        var problems: [ConfigDiagnostic] = []
        for name in names {
            let folder = (lessonsDirectory as NSString).appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent("lesson.yaml")) else { continue }
            switch load(name, folder: folder) {
            case .success(let pack): packs.append(pack)
            case .failure(let errors): problems += errors.diagnostics
            }
        }
        return (packs, problems)
    }

    /// The pack called `name` in `lessonsDirectory`.
    ///
    /// - Throws: `ConfigErrors`: no such pack (with the names there are), or its lesson.yaml's mistakes.
    public static func named(_ name: String, in lessonsDirectory: String) throws(ConfigErrors) -> LessonPack {
        let folder = (lessonsDirectory as NSString).appendingPathComponent(name)
        guard !name.contains("/"), !name.hasPrefix("."), FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent("lesson.yaml")) else {
            let known = all(in: lessonsDirectory).packs.map(\.name)
            throw ConfigErrors([ConfigDiagnostic(
                file: lessonsDirectory, line: 0, column: 0,
                message: "no lesson '\(name)' here\(Suggestion.phrase(for: name, among: known))"
                    + (known.isEmpty ? " (no lesson packs at all: say where they are with --lessons)" : "; lessons are \(known.joined(separator: ", "))")
            )])
        }
        return try load(name, folder: folder).get()
    }

    private static func load(_ name: String, folder: String) -> Result<LessonPack, ConfigErrors> {
        let file = (folder as NSString).appendingPathComponent("lesson.yaml")
        guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
            return .failure(ConfigErrors([ConfigDiagnostic(file: file, line: 0, column: 0, message: "cannot be read")]))
        }
        do {
            return .success(LessonPack(name: name, folder: folder, manifest: try LessonManifest.parse(.init(file: file, text: text))))
        } catch {
            return .failure(error)
        }
    }
}
