using System.Net;
using Btmc.Chains;
using Btmc.Cli;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Btmc.Functions.Tests.Ledger;

/// <summary>
/// Issue 16's "done when", end to end with the real commands: a server with one witness running, an auditor who
/// verifies every chain on its own machine and then only the growth since a saved checkpoint, a receipt vouched for by
/// the witness, and a restored backup that the backend refuses to seal on because the witness saw more.
/// </summary>
public sealed class AuditorJourneyTests : IDisposable
{
    private const string Witness = "witness.test/journey";

    private readonly string _folder = Directory.CreateTempSubdirectory("btmc-journey-").FullName;

    private string Data => Path.Combine(_folder, "data");

    private string Backup => Path.Combine(_folder, "backup");

    private string State => Path.Combine(_folder, "witness-state");

    private string KeyFile => Path.Combine(_folder, "witness.pem");

    private string Checkpoints => Path.Combine(_folder, "trusted.notes");

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static async Task<string> SealAsync(LocalServer server, string tag)
    {
        var events = Enumerable.Range(0, 5).Select(i => CaptureEndpointsTests.Event($"urn:epc:id:sgtin:0614141.107346.{tag}{i}")).ToArray();
        var (_, body, _) = await server.CaptureAsync(CaptureEndpointsTests.Document(events));
        await server.WaitSealedAsync(body.GetProperty("captureId").GetString()!);
        return body.GetProperty("eventIds")[0].GetString()!;
    }

    private Task<(int Exit, string Output, string Error)> WitnessOnceAsync(LocalServer server) =>
        CliRun.BtmcAsync("witness", "--url", server.BaseUrl, "--key", KeyFile, "--state", State, "--name", Witness, "--once");

    private static void Copy(string from, string to)
    {
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }
    }

    [Fact]
    public async Task Journey_WitnessedLedger_AuditorVerifiesAlonePlusGrowthReceiptIsVouchedAndRestoreIsRefused()
    {
        Directory.CreateDirectory(State);
        string[] settings = ["--Ledger:WitnessStates", State];
        string vkey;
        await using (var server = await LocalServer.StartInProcessAsync(Data, settings))
        {
            await SealAsync(server, "1");
            vkey = (await CliRun.BtmcAsync("witness", "keygen", "--name", Witness, "--out", KeyFile)).Output.Trim();
            Assert.Equal(0, (await CliRun.BtmcAsync("witness", "add", "--url", server.BaseUrl, "--api-key-file", server.OperatorKeyFile, "--verifier-key", vkey)).Exit);
            var witnessed = await WitnessOnceAsync(server);
            Assert.True(witnessed.Exit == 0, witnessed.Error);

            // The auditor verifies every chain on its own machine and keeps the checkpoints it verified.
            var full = await CliRun.BtmcAsync("verify-chain", "--url", server.BaseUrl, "--api-key-file", server.ApiKeyFile, "--save-checkpoints", Checkpoints);
            Assert.True(full.Exit == 0, full.Output + full.Error);
            Assert.Contains("valid", full.Output, StringComparison.Ordinal);
        }

        Copy(Data, Backup);
        await using (var server = await LocalServer.StartInProcessAsync(Data, settings))
        {
            var eventId = await SealAsync(server, "2");
            await SealAsync(server, "3");
            var witnessed = await WitnessOnceAsync(server);
            Assert.True(witnessed.Exit == 0, witnessed.Error);

            // The next day's audit covers only the growth since the saved checkpoints.
            var daily = await CliRun.BtmcAsync("verify-chain", "--url", server.BaseUrl, "--api-key-file", server.ApiKeyFile, "--from-checkpoint", Checkpoints);
            Assert.True(daily.Exit == 0, daily.Output + daily.Error);
            Assert.Contains("from size", daily.Output, StringComparison.Ordinal);

            // A receipt carries the witness's cosigned checkpoint; the auditor requires that witness.
            var receipt = Path.Combine(_folder, "receipt.json");
            Assert.Equal(0, (await CliRun.BtmcAsync("receipt", eventId, "--url", server.BaseUrl, "--api-key-file", server.ApiKeyFile, "--out", receipt)).Exit);
            var vouched = await CliRun.BtmcAsync("verify-receipt", receipt, "--witness-key", vkey, "--witnesses", "1");
            Assert.True(vouched.Exit == 0, vouched.Output + vouched.Error);
        }

        // A restored backup: the data is from before what the witness cosigned. The backend refuses to seal.
        Directory.Delete(Data, recursive: true);
        Copy(Backup, Data);
        await using (var restored = await LocalServer.StartInProcessAsync(Data, settings))
        {
            var guard = restored.Services.GetRequiredService<RollbackGuard>();
            Assert.True(guard.IsRefused);
            Assert.Contains(guard.Findings, f => f.Behind && f.Witness == Witness);
            var (status, problem, _) = await restored.CaptureAsync(CaptureEndpointsTests.Document(CaptureEndpointsTests.Event("urn:epc:id:sgtin:0614141.107346.99")));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.Contains("behind size", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

            // The witness, shown the restored ledger, reports the rollback as a fork with evidence and cosigns nothing.
            var fork = await WitnessOnceAsync(restored);
            Assert.Equal(WitnessCommand.ForkExit, fork.Exit);
            Assert.NotEmpty(Directory.GetFiles(State, "*.fork-*.json"));
        }
    }
}
