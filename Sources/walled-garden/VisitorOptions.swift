import ArgumentParser
import Foundation
import GardenPolicy
import GardenServer

/// The visitor a teaching command asks about (`explain`, `reveal`): `--as`, `--user`,
/// `--client`, `--at`, checked against the policy.
struct VisitorOptions: ParsableArguments {
    @Option(name: .customLong("as"), help: ArgumentHelp("The visitor's class (default: the policy's default class).", valueName: "class"))
    var visitorClass: String?

    @Option(name: .long, help: ArgumentHelp("The account the visitor signed in as (its class wins over --as).", valueName: "name"))
    var user: String?

    @Option(name: .long, help: ArgumentHelp("When the request is made, e.g. 2026-11-30T10:00+09:00 (default: now).", valueName: "time"))
    var at: String?

    @Option(name: .long, help: ArgumentHelp("The visitor's IP address, for rules with 'clients'.", valueName: "ip"))
    var client: String?

    /// The options read and checked: the class and account named, the address, the moment.
    struct Visitor {
        var visitorClass: String?
        var account: String?
        var clientAddress: [UInt8]?
        var time: Int64
    }

    func visitor(in policy: Policy) throws -> Visitor {
        if let visitorClass, policy.classes[visitorClass] == nil {
            throw ValidationError("no class '\(visitorClass)'; the classes are \(policy.classes.keys.sorted().joined(separator: ", "))")
        }
        if let user, policy.accounts[user] == nil {
            let known = policy.accounts.keys.sorted()
            throw ValidationError("no account '\(user)'" + (known.isEmpty ? "; policy.yaml declares none" : "; the accounts are \(known.joined(separator: ", "))"))
        }
        var clientAddress: [UInt8]?
        if let client {
            guard let parsed = IPAddressRange.parseAddress(client) else { throw ValidationError("'\(client)' is not an IP address") }
            clientAddress = parsed
        }
        var moment = Int64(Date().timeIntervalSince1970)
        if let at {
            guard let parsed = Schedule.moment(at) else { throw ValidationError("'\(at)' is not a time; write it like 2026-11-30T10:00+09:00") }
            moment = parsed
        }
        return Visitor(visitorClass: visitorClass, account: user, clientAddress: clientAddress, time: moment)
    }
}

extension ConfigDirectory {
    /// The configuration for a command-line tool; on errors, prints them and exits 78 (EX_CONFIG).
    func loadForCommand() throws -> GardenConfig {
        do {
            return try load()
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(78)
        }
    }
}

/// `--lesson NAME` (and `--lessons DIR`) for a teaching command: describe the garden as it
/// runs that lesson pack, as `serve --lesson NAME` would.
struct LessonOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("As the garden runs this lesson pack (walled-garden lesson list).", valueName: "name"))
    var lesson: String?

    @Option(name: .long, help: ArgumentHelp("The folder of lesson packs.", valueName: "dir"))
    var lessons = "Lessons"

    /// The configuration folder `config`, with the lesson laid over it; on errors, exits 78.
    func directory(_ config: String) throws -> ConfigDirectory {
        guard let lesson else { return ConfigDirectory(path: config) }
        do {
            return ConfigDirectory(path: config, lesson: try LessonPack.named(lesson, in: lessons))
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(78)
        }
    }
}
