#if canImport(Glibc)
import Glibc
#endif
import GardenAudit
import GardenPolicy
import GardenSites
import NIOCore

/// The students' lab page (`LabPage`).
extension GardenHTTPHandler {
    /// Plans the address the student typed as this connection's own request would be
    /// planned (the student's class, address and the policy in force), and shows what the
    /// censor does with it, beside the student's recent requests.
    func sendLab(query: String, policy: Policy, isHEAD: Bool) {
        let address = LabPage.address(inQuery: query)
        var censorship: String?
        var control: String?
        var plannedClass = visitorClass
        if let address {
            if let head = try? VisitPlanner.head(of: Visit(url: address, time: 0)) {
                let plan = planner.plan(head, sites: sites, policy: policy, now: Int64(time(nil)))
                censorship = LabPage.censorship(plan)
                if let planned = plan.visitorClass { plannedClass = planned }
                let path = plan.target.flatMap { target -> RequestPath? in
                    guard case .success(let path) = RequestPath.parse(target.pathAndQuery) else { return nil }
                    return path
                }
                control = LabPage.control(plan, content: plan.target.flatMap { sites.site(for: $0.host)?.content }, path: path)
            } else {
                censorship = "—"
                control = "That is not an address the garden can read (try worldnews.example or http://friend.com.kp/)."
            }
        }
        let client = clientText
        let recent = garden.audit.feed.recent(limit: 20) { $0.client == client && $0.action != "lab" }
        let html = LabPage.html(address: address, censorship: censorship, control: control, recent: recent, visitorClass: plannedClass)
        // Its form must be sendable: the form page's CSP (`form-action 'self'`).
        sendFormPage(.ok, html: html, isHEAD: isHEAD)
    }
}
