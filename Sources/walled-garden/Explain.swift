import ArgumentParser
import Foundation
import GardenPolicy
import GardenServer

/// `walled-garden explain`: why a visitor gets what they get, rule by rule.
struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Explain, rule by rule, what a visitor gets for a URL.",
        discussion: """
        Examples:
          walled-garden explain http://worldnews.example/
          walled-garden explain --as official http://worldnews.example/
          walled-garden explain --as citizen --client 10.1.2.3 http://friend.com.kp/groups/
          walled-garden explain --user kim http://worldnews.example/
          walled-garden explain --at 2026-11-30T10:00+09:00 http://friend.com.kp/
        """
    )

    @Option(name: .customLong("as"), help: ArgumentHelp("The visitor's class (default: the policy's default class).", valueName: "class"))
    var visitorClass: String?

    @Option(name: .long, help: ArgumentHelp("The account the visitor signed in as (its class wins over --as).", valueName: "name"))
    var user: String?

    @Option(name: .long, help: ArgumentHelp("When the request is made, e.g. 2026-11-30T10:00+09:00 (default: now).", valueName: "time"))
    var at: String?

    @Option(name: .long, help: ArgumentHelp("The visitor's IP address, for rules with 'clients'.", valueName: "ip"))
    var client: String?

    @Option(name: .long, help: ArgumentHelp("The request method.", valueName: "method"))
    var method = "GET"

    @Option(name: .long, help: ArgumentHelp("The configuration folder.", valueName: "dir"))
    var config = "Config"

    @Option(name: .long, help: ArgumentHelp("The folder of site folders (read for rules with content_keywords).", valueName: "dir"))
    var sites = "Sites"

    @Argument(help: ArgumentHelp("The address, e.g. http://friend.com.kp/feed.html.", valueName: "url"))
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
        let written = url.contains("://") ? url : "http://" + url
        if let visitorClass, policy.classes[visitorClass] == nil {
            throw ValidationError("no class '\(visitorClass)'; the classes are \(policy.classes.keys.sorted().joined(separator: ", "))")
        }
        var clientAddress: [UInt8]?
        if let client {
            guard let parsed = IPAddressRange.parseAddress(client) else { throw ValidationError("'\(client)' is not an IP address") }
            clientAddress = parsed
        }
        if let user, policy.accounts[user] == nil {
            let known = policy.accounts.keys.sorted()
            throw ValidationError("no account '\(user)'" + (known.isEmpty ? "; policy.yaml declares none" : "; the accounts are \(known.joined(separator: ", "))"))
        }
        var moment = Int64(Date().timeIntervalSince1970)
        if let at {
            guard let parsed = Schedule.moment(at) else { throw ValidationError("'\(at)' is not a time; write it like 2026-11-30T10:00+09:00") }
            moment = parsed
        }
        let identity = user.map { policy.visitorClass(account: $0, persona: nil, clientAddress: nil) }
            ?? visitorClass.map { ($0, "from --as") }
            ?? policy.visitorClass(persona: nil, clientAddress: clientAddress)
        guard var facts = RequestFacts.forURL(
            written, method: method.uppercased(), visitorClass: identity.0, clientAddress: clientAddress, sites: gardenConfig.sites
        ) else {
            throw ValidationError("'\(url)' is not an http:// address the garden can explain")
        }
        facts.account = user
        facts.time = moment
        facts.contentWords = ContentWords.loadingSite(of: written, config: gardenConfig, sitesDirectory: sites)
        let explanation = Explanation(
            policy: policy, request: facts, decision: policy.decide(facts),
            howClassWasFound: identity.1 == "the default class" ? "the default class; say --as to choose another" : identity.1,
            url: written
        )
        print(explanation.lines.joined(separator: "\n"))
    }
}
