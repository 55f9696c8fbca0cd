/// The rules between organisations that share a host. Cloud organisations share
/// `cloudimanage.com` and one pre-registered application, so only the customer id tells their
/// people apart: without it a person of one firm could authorise into another's organisation.
struct OrganisationSharingRules {
    let problems: ProblemCollector

    func check(_ organisations: [OrganisationConfig]) {
        let byHost = Dictionary(grouping: organisations) { $0.authorizationBase.host?.lowercased() ?? "" }
        for (host, sharing) in byHost.sorted(by: { $0.key < $1.key }) where sharing.count > 1 {
            let names = sharing.map(\.name).joined(separator: ", ")
            for organisation in sharing where organisation.customerID == nil {
                problems.add(
                    line: organisation.line, key: "organisation \"\(organisation.name)\".customer_id",
                    "required: organisations \(names) all sign in at \(host), so each must name its iManage customer; "
                        + "set customer_id to the customer id iManage reports for this firm (data.user.customer_id of /api)")
            }
        }
        checkTrustRoots(organisations)
    }

    /// An organisation's own `ca_file` is trusted for its hosts only, so two organisations on one
    /// host cannot each bring a different one.
    private func checkTrustRoots(_ organisations: [OrganisationConfig]) {
        var caFileOfHost: [String: (organisation: String, caFile: String)] = [:]
        for organisation in organisations {
            guard let caFile = organisation.caFile else { continue }
            for host in organisation.hosts.sorted() {
                if let other = caFileOfHost[host], other.caFile != caFile {
                    problems.add(
                        line: organisation.line, key: "organisation \"\(organisation.name)\".ca_file",
                        "\(host) is also a host of organisation \(other.organisation), whose ca_file is another file: "
                            + "organisations on one host use one ca_file")
                } else {
                    caFileOfHost[host] = (organisation.name, caFile)
                }
            }
        }
    }
}
