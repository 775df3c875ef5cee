/// A named set of rules the teacher turns on and off in one click during a lesson
/// ("exam-day shutdown", "foreign news blackout"), declared under `switches:` in
/// policy.yaml. While a switch is off its rules are left out of the policy, as if
/// deleted; its state lives in `Config/switches.yaml`, which the desk writes, so the
/// files stay the truth.
public struct PolicySwitch: Sendable, Equatable {
    public var id: String
    /// What the desk shows on the switch.
    public var title: String
    /// The rules it turns on and off, by id.
    public var ruleIDs: [String]
    /// Its state when switches.yaml does not name it.
    public var isOnByDefault: Bool
    /// Its state now: switches.yaml's word, else the default.
    public var isOn: Bool

    public init(id: String, title: String, ruleIDs: [String], isOnByDefault: Bool) {
        self.id = id
        self.title = title
        self.ruleIDs = ruleIDs
        self.isOnByDefault = isOnByDefault
        self.isOn = isOnByDefault
    }
}

extension Policy {
    /// The policy with each switch set as `states` says (a switch it does not name keeps
    /// its default): the rules of switches that are off left out.
    public func applyingSwitches(_ states: [String: Bool]) -> Policy {
        var policy = self
        // A policy built in code, never switched, has its rules in `rules` only.
        let every = allRules.isEmpty ? rules : allRules
        var off: [String: String] = [:]
        for index in policy.switches.indices {
            let isOn = states[policy.switches[index].id] ?? policy.switches[index].isOnByDefault
            policy.switches[index].isOn = isOn
            if !isOn {
                for rule in policy.switches[index].ruleIDs { off[rule] = policy.switches[index].id }
            }
        }
        policy.allRules = every
        policy.switchedOff = off
        policy.rules = every.filter { off[$0.id] == nil }
        return policy
    }

    /// switches.yaml's text for these states, with a comment saying who writes it.
    public static func switchesFile(_ states: [(id: String, isOn: Bool)]) -> String {
        var text = """
            # The lesson's switches (declared under `switches:` in policy.yaml): on or off.
            # The teacher's desk writes this file when a switch is clicked; editing it by
            # hand works too. A switch not named here is in its default state.

            """
        for state in states { text += "\(state.id): \(state.isOn ? "on" : "off")\n" }
        return text
    }
}
