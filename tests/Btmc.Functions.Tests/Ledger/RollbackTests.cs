using System.Net;
using System.Text.Json;
using Btmc.Chains;
using Btmc.Ledger.Transparency;
using Microsoft.Extensions.DependencyInjection;
using Org.BouncyCastle.Crypto.Parameters;
using Xunit;

namespace Btmc.Functions.Tests.Ledger;

public sealed class RollbackTests
{
    private static async Task SealAsync(LocalServer server, string tag)
    {
        var (_, body, _) = await server.CaptureAsync(CaptureEndpointsTests.Document(
            Enumerable.Range(0, 6).Select(i => CaptureEndpointsTests.Event($"urn:epc:id:sgtin:0614141.107346.{tag}{i}")).ToArray()));
        await server.WaitSealedAsync(body.GetProperty("captureId").GetString()!);
    }

    /// <summary>What a witness keeps (the state format of <c>btmc witness</c>): each chain's latest checkpoint, cosigned, one file per origin.</summary>
    private static async Task CosignAllAsync(LocalServer server, string state)
    {
        var key = new Ed25519PrivateKeyParameters(new byte[32].Select((_, i) => (byte)(i + 1)).ToArray());
        var witness = Cosigner.OfEd25519("witness.test/rollback", key);
        foreach (var view in (await server.GetJsonAsync("api/ledger/checkpoints")).GetProperty("chains").EnumerateArray())
        {
            var note = SignedNote.Parse(view.GetProperty("checkpoint").GetString()!);
            var cosigned = note.WithSignature(witness.SignEd25519(key, note.Text, DateTimeOffset.UtcNow));
            await File.WriteAllTextAsync(Path.Combine(state, Btmc.Cli.WitnessCommand.StateFileName(Checkpoint.Parse(note.Text).Origin)), cosigned.Format());
        }
    }

    private static void CopyFolder(string from, string to)
    {
        foreach (var directory in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(directory.Replace(from, to, StringComparison.Ordinal));
        }

        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, file.Replace(from, to, StringComparison.Ordinal), overwrite: true);
        }
    }

    [Fact]
    public async Task Start_DataRestoredFromBeforeWitnessedCheckpoints_RefusesSealingAndCaptureNamesTheChain()
    {
        var data = LocalServer.NewDataDirectory();
        var backup = LocalServer.NewDataDirectory();
        var state = LocalServer.NewDataDirectory();
        string[] settings = ["--Ledger:WitnessStates", state];
        try
        {
            await using (var first = await LocalServer.StartInProcessAsync(data, settings))
            {
                await SealAsync(first, "1");
            }

            CopyFolder(data, backup);
            Dictionary<string, long> heightsAtBackup;
            await using (var second = await LocalServer.StartInProcessAsync(data, settings))
            {
                Assert.False(second.Services.GetRequiredService<RollbackGuard>().IsRefused);
                await SealAsync(second, "2");
                await SealAsync(second, "3");
                await CosignAllAsync(second, state);
            }

            Directory.Delete(data, recursive: true);
            Directory.CreateDirectory(data);
            CopyFolder(backup, data);
            await using (var inspect = await LocalServer.StartInProcessAsync(backup, []))
            {
                heightsAtBackup = Heights(await inspect.GetJsonAsync("api/ledger/chains"));
            }

            await using var restored = await LocalServer.StartInProcessAsync(data, settings);
            var guard = restored.Services.GetRequiredService<RollbackGuard>();
            Assert.True(guard.IsRefused);
            var behind = guard.Findings.First(f => f.ChainId.StartsWith("supply", StringComparison.Ordinal));
            Assert.True(behind.Behind);

            var (status, problem, response) = await restored.CaptureAsync(CaptureEndpointsTests.Document(CaptureEndpointsTests.Event("urn:epc:id:sgtin:0614141.107346.49")));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var detail = problem.GetProperty("detail").GetString()!;
            Assert.Contains($"chain {behind.ChainId} is at size {behind.OurSize}", detail, StringComparison.Ordinal);
            Assert.Contains($"behind size {behind.CosignedSize} (root {behind.CosignedRoot.ToHex()})", detail, StringComparison.Ordinal);

            // Nothing was sealed at a height the backup already had, and a direct commit is refused too.
            Assert.Equal(heightsAtBackup, Heights(await restored.GetJsonAsync("api/ledger/chains")));
            var store = restored.Backend.Store;
            var head = await store.Reader.FindHeadAsync(behind.ChainId);
            Action commit = () => guard.ThrowIfRefused(behind.ChainId, head!.TotalEntries, behind.OurRoot);
            Assert.Throws<SealingRefusedException>(commit);
        }
        finally
        {
            foreach (var folder in new[] { data, backup, state })
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    [Fact]
    public async Task Start_WitnessStateOfTheSameHistory_SealsOn()
    {
        var data = LocalServer.NewDataDirectory();
        var state = LocalServer.NewDataDirectory();
        try
        {
            await using (var first = await LocalServer.StartInProcessAsync(data, "--Ledger:WitnessStates", state))
            {
                await SealAsync(first, "5");
                await CosignAllAsync(first, state);
            }

            await using var again = await LocalServer.StartInProcessAsync(data, "--Ledger:WitnessStates", state);
            Assert.False(again.Services.GetRequiredService<RollbackGuard>().IsRefused);
            await SealAsync(again, "6");
        }
        finally
        {
            Directory.Delete(data, recursive: true);
            Directory.Delete(state, recursive: true);
        }
    }

    private static Dictionary<string, long> Heights(JsonElement chains) =>
        chains.GetProperty("chains").EnumerateArray().ToDictionary(c => c.GetProperty("chainId").GetString()!, c => c.GetProperty("height").GetInt64());
}
