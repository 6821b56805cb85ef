import CloudSimulator
import Foundation
import Testing

@Suite("Seed time and term parsing")
struct SeedTimeTests {
    @Test("relative and absolute times", arguments: [
        ("now", 0.0), ("-2d", -172_800.0), ("now-36h", -129_600.0), ("+10m", 600.0), ("-1y", -31_536_000.0), ("-30s", -30.0),
    ])
    func relative(text: String, offset: Double) {
        let now = Date(timeIntervalSince1970: 1_000_000)
        #expect(SeedTime.parse(text)?.resolve(now: now) == now.addingTimeInterval(offset))
    }

    @Test("absolute ISO time and rejects")
    func absolute() {
        #expect(SeedTime.parse("2026-11-20T08:00:00Z")?.resolve(now: Date()) == Date(timeIntervalSince1970: 1_795_161_600))
        #expect(SeedTime.parse("two days ago") == nil)
        #expect(SeedTime.parse("-2x") == nil)
        #expect(SeedTerm.parse("3y")?.months == 36)
        #expect(SeedTerm.parse("1m")?.months == 1)
        #expect(SeedTerm.parse("1w") == nil)
    }
}
