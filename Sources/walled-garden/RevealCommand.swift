import ArgumentParser
import Foundation
import GardenPolicy
import GardenServer

/// `walled-garden reveal`: the page as the site has it beside what a visitor receives.
struct RevealCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reveal",
        abstract: "Show how the censor rewrites a page for a visitor, change by change.",
        discussion: """
        Examples:
          walled-garden reveal http://friend.com.kp/
          walled-garden reveal --as official http://friend.com.kp/
        """
    )

    @Option(name: .customLong("as"), help: ArgumentHelp("The visitor's class (default: the policy's default class).", valueName: "class"))
    var visitorClass: String?

    @Option(name: .long, help: ArgumentHelp("The account the visitor signed in as.", valueName: "name"))
    var user: String?

    @Option(name: .long, help: ArgumentHelp("The visitor's IP address.", valueName: "ip"))
    var client: String?

    @Option(name: .long, help: ArgumentHelp("When, e.g. 2026-11-30T10:00+09:00 (default: now).", valueName: "time"))
    var at: String?

    @Option(name: .long, help: ArgumentHelp("The configuration folder.", valueName: "dir"))
    var config = "Config"

    @Option(name: .long, help: ArgumentHelp("The folder of site folders.", valueName: "dir"))
    var sites = "Sites"

    @Argument(help: ArgumentHelp("The page, e.g. http://friend.com.kp/.", valueName: "url"))
    var url: String

    func run() throws {
        let gardenConfig: GardenConfig
        do {
            gardenConfig = try ConfigDirectory(path: config).load()
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(78)
        }
        let policy = gardenConfig.policy
        if let visitorClass, policy.classes[visitorClass] == nil {
            throw ValidationError("no class '\(visitorClass)'; the classes are \(policy.classes.keys.sorted().joined(separator: ", "))")
        }
        if let user, policy.accounts[user] == nil { throw ValidationError("no account '\(user)'") }
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
        do {
            let reveal = try Reveal.run(
                config: gardenConfig, sitesDirectory: sites, url: url.contains("://") ? url : "http://" + url,
                visitorClass: visitorClass, account: user, clientAddress: clientAddress, time: moment
            )
            print(reveal.lines.joined(separator: "\n"))
        } catch {
            FileHandle.standardError.write(Data("walled-garden reveal: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}
