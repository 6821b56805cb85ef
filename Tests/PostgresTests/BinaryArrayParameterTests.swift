import Foundation
import Postgres
import Testing
import UnwindTesting

/// Array parameters of named statements that declare their type go in binary format; the server must read exactly
/// what the text form said. Each case sends one array both ways (a named statement, binary; the same text unnamed,
/// which is always sent as text) and compares the server's own rendering of what it received.
@Suite("Binary array parameters")
struct BinaryArrayParameterTests {
    @Test func theStatementTextDeclaresWhichParametersAreArraysOfWhichType() {
        let types = PostgresArrayElementType.declaredArrayParameters(in: """
            SELECT * FROM unnest($1::uuid[], $2::TEXT[], $3::int[], $5::bigint[]) WHERE x = $4::uuid AND y = ANY($6::jsonb[])
              AND z = ANY($7::timestamptz[]) AND b = ANY($8::boolean[]) AND d = ANY($9::double precision[])
              AND $10::integer[] IS NOT NULL AND $11::int[] = $11::bigint[] AND $12::text[] = $12::text[]
            """)
        #expect(types == [.uuid, .text, .int4, nil, .int8, .jsonb, .timestamptz, .bool, nil, .int4, nil, .text])
        #expect(PostgresArrayElementType.declaredArrayParameters(in: "SELECT $1, '$2::uuid[]'").count <= 2)
        #expect(PostgresArrayElementType.declaredArrayParameters(in: "SELECT 1").isEmpty)
    }

    @Test func arraysHaveABinaryFormOnlyForTheirOwnTypes() {
        #expect([UUID()].postgresBinaryArray(of: .uuid) != nil)
        #expect([UUID()].postgresBinaryArray(of: .text) == nil)
        #expect([1, 2].postgresBinaryArray(of: .int4) != nil)
        #expect([Int64(1)].postgresBinaryArray(of: .int8) != nil && [Int32(1)].postgresBinaryArray(of: .int4) != nil)
        #expect(["a"].postgresBinaryArray(of: .text) != nil && [Substring("a")].postgresBinaryArray(of: .jsonb) != nil)
        #expect([PostgresRawJSON("{}")].postgresBinaryArray(of: .jsonb) != nil && [true].postgresBinaryArray(of: .bool) != nil)
        #expect([Optional<UUID>.none].postgresBinaryArray(of: .uuid) != nil && [Date()].postgresBinaryArray(of: .timestamptz) != nil)
        #expect([Int(Int32.max) + 1].postgresBinaryArray(of: .int4) == nil)  // as text: the server's own range error
        #expect(["a\u{0}b"].postgresBinaryArray(of: .text) == nil)  // as text: refused with the NUL message
        #expect([Date()].postgresBinaryArray(of: .int8) == nil)
        // An empty array: no dimensions, the element type still named.
        #expect([UUID]().postgresBinaryArray(of: .uuid) == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b, 0x86])
    }

    @Test func theServerReadsBinaryArraysAsItReadsTheirText() async throws {
        guard TestEnvironment.hasDatabase else { return }
        let connection = try await TestDatabase.create().connect()
        let ids = [UUID(), UUID(uuidString: "00000000-0000-0000-0000-000000000000")!, UUID(uuidString: "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF")!]
        let dates = [Date(timeIntervalSince1970: 1_795_000_000.123456), Date(timeIntervalSince1970: -1e18),
                     Date(timeIntervalSince1970: 1e18), Date(timeIntervalSince1970: 0.0000005), Date(timeIntervalSince1970: -0.7)]
        let cases: [(type: String, value: any PostgresEncodable)] = [
            ("uuid", ids), ("uuid", [ids[0], nil] as [UUID?]), ("uuid", [UUID]()),
            ("text", ["plain", "quote \" and back\\slash", "comma, {brace}", "ü 中文 🙂", "", "NULL"]),
            ("text", [nil, "x"] as [String?]), ("text", [Substring("sub")]),
            ("int", [0, 1, -1, Int(Int32.max), Int(Int32.min)]), ("int", [nil, 7] as [Int?]),
            ("bigint", [Int64.max, Int64.min, 0]), ("bigint", [Int.max, -5]),
            ("boolean", [true, false]), ("boolean", [nil, true] as [Bool?]),
            ("jsonb", [#"{"b":[1,2.5,"x"],"a":null}"#, "[]", "\"s\"", nil] as [String?]),
            ("jsonb", [PostgresRawJSON(#"{"k":"v \" \\ \n"}"#)]),
            ("timestamptz", dates),
        ]
        for (index, testCase) in cases.enumerated() {
            let sql = "SELECT $1::\(testCase.type)[]::text AS rendered, cardinality($1::\(testCase.type)[]) AS count"
            let binary = try #require(try connection.query(sql, [testCase.value], name: "binary_array_\(index)").first)
            let text = try #require(try connection.query(sql, [testCase.value], name: nil).first)
            #expect(try binary.decode("rendered", as: String.self) == text.decode("rendered", as: String.self), "case \(index): \(testCase.type)")
            #expect(try binary.decode("count", as: Int.self) == text.decode("count", as: Int.self), "case \(index): \(testCase.type)")
        }
    }

    @Test func valuesWithoutABinaryFormStillGoAsTextWithTheirUsualErrors() async throws {
        guard TestEnvironment.hasDatabase else { return }
        let connection = try await TestDatabase.create().connect()
        let tooLarge = #expect(throws: PostgresError.self) {
            try connection.query("SELECT $1::int[] AS v", [[Int(Int32.max) + 1]], name: "binary_int_range")
        }
        #expect(tooLarge?.sqlState == "22003")  // numeric value out of range, the server's own
        let nul = #expect(throws: PostgresError.self) {
            try connection.query("SELECT $1::text[] AS v", [["a\u{0}b"]], name: "binary_text_nul")
        }
        #expect(nul?.code == .invalidParameter)
        #expect(nul?.message.contains("NUL character") == true)
    }
}
