@testable import EmuCore
import Testing
@testable import EmuRecords
@testable import EmuRemote

@Suite("short IDs")
struct ShortIDTests {
    @Test("the short form shown is unique among a sink's snapshots: 8 digits, more when IDs share them")
    func uniqueShortIDs() {
        let date = Timestamp(seconds: 1_800_000_000)
        let ids = ["6b0993" + String(repeating: "a", count: 34), "6b0993aaaab" + String(repeating: "0", count: 29),
                   "0123456789" + String(repeating: "f", count: 30)]
        let short = Snapshot.uniqueShortIDs(ids.map { Snapshot(id: $0, parent: nil, date: date) })
        #expect(short[ids[0]] == "6b0993aaaaa")
        #expect(short[ids[1]] == "6b0993aaaab")
        #expect(short[ids[2]] == "01234567")
    }
}
