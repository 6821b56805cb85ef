import Foundation
import Testing
import UnwindTesting

/// systemd's LoadCredential= hands the service a root-owned file, mode 0400 plus a read ACL for the service's
/// user, which stat reports as 0440. The secret-file checks must accept files in $CREDENTIALS_DIRECTORY, or the
/// recommended systemd setup (and the container examples) could not start.
@Suite("Secrets from $CREDENTIALS_DIRECTORY", .enabled(if: TestEnvironment.hasDatabase))
struct CredentialsDirectoryTests {
    /// A credentials directory as systemd leaves it: the file readable by its group (the ACL mask).
    func credentials(password: String) throws -> (directory: String, file: String) {
        let directory = try TestEnvironment.makeScratchDirectory("credentials")
        let file = directory + "/db-password"
        try (password + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        chmod(file, 0o440)
        chmod(directory, 0o550)
        return (directory, file)
    }

    @Test func aPasswordFileInTheCredentialsDirectoryIsAccepted() async throws {
        let database = try await TestDatabase.create(migrated: true)
        let (directory, file) = try credentials(password: "unwind-test")
        let url = database.url.replacingOccurrences(of: "unwind_worker:unwind-test@", with: "unwind_worker@")
        #expect(url != database.url, "the URL must not carry the password for this test")

        let accepted = await runUnwind(["doctor"], environment: [
            "UNWIND_DATABASE_URL": url, "UNWIND_DATABASE_PASSWORD_FILE": file, "CREDENTIALS_DIRECTORY": directory,
        ])
        #expect(accepted.status == 0, "\(accepted.combined)")
        #expect(!accepted.combined.contains("unwind-test"), "the password is never printed")

        // The same file outside a credentials directory is still refused, with the fix in the message.
        let refused = await runUnwind(["doctor"], environment: ["UNWIND_DATABASE_URL": url, "UNWIND_DATABASE_PASSWORD_FILE": file])
        #expect(refused.status != 0)
        #expect(refused.combined.contains("readable by other users"), "\(refused.combined)")

        // Only files inside the directory are trusted: not a sibling whose name merely starts with it, not a
        // directory that the variable names below the file.
        for credentialsDirectory in [String(directory.dropLast()), directory + "/sub"] {
            let other = await runUnwind(["doctor"], environment: [
                "UNWIND_DATABASE_URL": url, "UNWIND_DATABASE_PASSWORD_FILE": file, "CREDENTIALS_DIRECTORY": credentialsDirectory,
            ])
            #expect(other.combined.contains("readable by other users"), "CREDENTIALS_DIRECTORY=\(credentialsDirectory): \(other.combined)")
        }
    }
}
