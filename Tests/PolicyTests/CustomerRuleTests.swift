import Testing
import TokendPolicy

@Suite("CustomerRule: an organisation is one iManage customer")
struct CustomerRuleTests {
    @Test func theFirstAuthorizationPinsAndThenOnlyThatCustomerMatches() {
        #expect(CustomerRule.decide(reported: "1", configured: nil, pinned: nil) == .pins("1"))
        #expect(CustomerRule.decide(reported: "1", configured: nil, pinned: "1") == .matches)
        #expect(CustomerRule.decide(reported: "2", configured: nil, pinned: "1") == .refused(expected: "1"))
    }

    @Test func aConfiguredCustomerWinsOverAPin() {
        #expect(CustomerRule.decide(reported: "2", configured: "2", pinned: "1") == .matches)
        #expect(CustomerRule.decide(reported: "1", configured: "2", pinned: "1") == .refused(expected: "2"))
        #expect(CustomerRule.decide(reported: "1", configured: "2", pinned: nil) == .refused(expected: "2"))
    }

    @Test func theMessageSaysBothCustomersAndWhatToDo() {
        let message = CustomerRule.mismatchMessage(organisation: "acme", expected: "1", reported: "2")
        #expect(message.hasPrefix("you signed in to iManage customer 2; this organisation (acme) is customer 1"))
        #expect(message.contains("nothing was stored"))
    }
}
