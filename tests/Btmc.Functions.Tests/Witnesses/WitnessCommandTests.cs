using System.Text.Json;
using Btmc.Cli;
using Btmc.Ledger.Transparency;
using Btmc.Platform.Azure.Keys;
using Btmc.Testing;
using Xunit;

namespace Btmc.Functions.Tests.Witnesses;

/// <summary><c>btmc witness</c> against a real server: it cosigns and posts each chain's checkpoint, keeps the last
/// one per origin on disk, and on a fork writes the evidence, cosigns nothing, and exits 3.</summary>
public sealed class WitnessCommandTests : IDisposable
{
    private const string Name = "witness.test/w1";

    private readonly string _folder = Directory.CreateTempSubdirectory("btmc-witness-").FullName;

    private string KeyFile => Path.Combine(_folder, "witness.pem");

    private string State => Path.Combine(_folder, "state");

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static async Task SealAsync(LocalServer server, string epc)
    {
        var (_, body, _) = await server.CaptureAsync(CaptureEndpointsTests.Document(CaptureEndpointsTests.Event(epc)));
        await server.WaitSealedAsync(body.GetProperty("captureId").GetString()!);
    }

    /// <summary>Makes the witness key and registers it as the server's operator; returns the verifier key.</summary>
    private async Task<string> RegisterAsync(LocalServer server)
    {
        var verifierKey = File.Exists(KeyFile)
            ? (await CliRun.BtmcAsync("witness", "vkey", "--name", Name, "--key", KeyFile)).Output.Trim()
            : (await CliRun.BtmcAsync("witness", "keygen", "--name", Name, "--out", KeyFile)).Output.Trim();
        var added = await CliRun.BtmcAsync("witness", "add", "--url", server.BaseUrl, "--api-key-file", server.OperatorKeyFile, "--verifier-key", verifierKey);
        Assert.True(added.Exit == 0, added.Error);
        return verifierKey;
    }

    private Task<(int Exit, string Output, string Error)> WitnessOnceAsync(LocalServer server) =>
        CliRun.BtmcAsync("witness", "--url", server.BaseUrl, "--key", KeyFile, "--state", State, "--name", Name, "--once");

    [Fact]
    public async Task Witness_OnceTwiceWithSealingBetween_CosignsPostsAndKeepsTheLastPerOrigin()
    {
        await using var server = await LocalServer.StartInProcessAsync();
        await SealAsync(server, "urn:epc:id:sgtin:0614141.107346.1");
        var verifierKey = await RegisterAsync(server);
        var witness = Cosigner.ParseVerifierKey(verifierKey);

        var first = await WitnessOnceAsync(server);
        await SealAsync(server, "urn:epc:id:sgtin:0614141.107346.2");
        var second = await WitnessOnceAsync(server);

        Assert.True(first.Exit == 0, first.Error);
        Assert.True(second.Exit == 0, second.Error);
        Assert.True(OperatingSystem.IsWindows() || File.GetUnixFileMode(KeyFile) == (UnixFileMode.UserRead | UnixFileMode.UserWrite));
        var checkpoints = (await server.GetJsonAsync("api/ledger/checkpoints")).GetProperty("chains").EnumerateArray().ToList();
        foreach (var view in checkpoints)
        {
            var chainId = view.GetProperty("chainId").GetString()!;
            var note = SignedNote.Parse(view.GetProperty("checkpoint").GetString()!);
            var origin = Checkpoint.Parse(note.Text).Origin;
            var state = SignedNote.Parse(await File.ReadAllTextAsync(Path.Combine(State, WitnessCommand.StateFileName(origin))));
            Assert.Equal(note.Text, state.Text);
            Assert.NotNull(witness.Verify(state));
            var cosigned = Assert.Single((await server.GetJsonAsync($"api/ledger/checkpoints/{chainId}/cosignatures")).GetProperty("cosignatures").EnumerateArray());
            Assert.Equal(view.GetProperty("size").GetInt64(), cosigned.GetProperty("size").GetInt64());
        }

        Assert.Equal(checkpoints.Count, Directory.GetFiles(State, "*.cosigned").Length);
    }

    [Fact]
    public async Task Witness_StateFromAForkOfTheLedger_ExitsThreeWritesEvidenceAndCosignsNothing()
    {
        // Two ledgers with one history up to a point (the same genesis, keys and origin), then each its own block.
        var dataA = LocalServer.NewDataDirectory();
        var dataB = LocalServer.NewDataDirectory();
        try
        {
            await using (var seed = await LocalServer.StartInProcessAsync(dataA))
            {
                await SealAsync(seed, "urn:epc:id:sgtin:0614141.107346.1");
            }

            CopyDirectory(dataA, dataB);
            string forkedChain;
            await using (var a = await LocalServer.StartInProcessAsync(dataA))
            {
                await SealAsync(a, "urn:epc:id:sgtin:0614141.107346.2");
                await RegisterAsync(a);
                var witnessedA = await WitnessOnceAsync(a);
                Assert.True(witnessedA.Exit == 0, witnessedA.Error);
            }

            await using var b = await LocalServer.StartInProcessAsync(dataB);
            await SealAsync(b, "urn:epc:id:sgtin:0614141.107346.3");
            await RegisterAsync(b);

            var forked = await WitnessOnceAsync(b);

            Assert.True(forked.Exit == WitnessCommand.ForkExit, $"exit {forked.Exit}: {forked.Output} {forked.Error}");
            Assert.Contains("FORK", forked.Error, StringComparison.Ordinal);
            var evidenceFile = Assert.Single(Directory.GetFiles(State, "*.fork-*.json"));
            using var evidence = JsonDocument.Parse(await File.ReadAllTextAsync(evidenceFile));
            var cosigned = Checkpoint.Parse(SignedNote.Parse(evidence.RootElement.GetProperty("cosigned").GetString()!).Text);
            var presented = Checkpoint.Parse(SignedNote.Parse(evidence.RootElement.GetProperty("presented").GetString()!).Text);
            Assert.Equal(cosigned.Origin, presented.Origin);
            Assert.NotEqual(cosigned.RootHash, presented.RootHash);
            Assert.False(string.IsNullOrEmpty(evidence.RootElement.GetProperty("reason").GetString()));
            Assert.Contains((await File.ReadAllTextAsync(evidenceFile)).Trim(), forked.Output, StringComparison.Ordinal);
            forkedChain = presented.Origin[(presented.Origin.LastIndexOf('/') + 1)..];
            Assert.Equal(0, (await b.GetJsonAsync($"api/ledger/checkpoints/{forkedChain}/cosignatures")).GetProperty("cosignatures").GetArrayLength());

            // Across restarts: the state on disk still refuses, and still cosigns nothing there.
            var again = await WitnessOnceAsync(b);
            Assert.Equal(WitnessCommand.ForkExit, again.Exit);
            Assert.Equal(0, (await b.GetJsonAsync($"api/ledger/checkpoints/{forkedChain}/cosignatures")).GetProperty("cosignatures").GetArrayLength());
        }
        finally
        {
            Directory.Delete(dataA, recursive: true);
            Directory.Delete(dataB, recursive: true);
        }
    }

    [Fact]
    public async Task Witness_DamagedStateFile_CosignsNothingForThatOriginAndExits1()
    {
        await using var server = await LocalServer.StartInProcessAsync();
        await SealAsync(server, "urn:epc:id:sgtin:0614141.107346.1");
        await RegisterAsync(server);
        Assert.Equal(0, (await WitnessOnceAsync(server)).Exit);
        await SealAsync(server, "urn:epc:id:sgtin:0614141.107346.2");

        // The chain the second event went to: it has grown past what the witness cosigned.
        JsonElement view = default;
        foreach (var candidate in (await server.GetJsonAsync("api/ledger/checkpoints")).GetProperty("chains").EnumerateArray())
        {
            var id = candidate.GetProperty("chainId").GetString()!;
            var latest = (await server.GetJsonAsync($"api/ledger/checkpoints/{id}/cosignatures")).GetProperty("cosignatures").EnumerateArray()
                .Select(c => c.GetProperty("size").GetInt64()).DefaultIfEmpty(0).Max();
            if (id != "governance" && candidate.GetProperty("size").GetInt64() > latest)
            {
                view = candidate;
            }
        }

        var chainId = view.GetProperty("chainId").GetString()!;
        var origin = Checkpoint.Parse(SignedNote.Parse(view.GetProperty("checkpoint").GetString()!).Text).Origin;
        await File.WriteAllTextAsync(Path.Combine(State, WitnessCommand.StateFileName(origin)), "damaged");

        var run = await WitnessOnceAsync(server);

        Assert.Equal(1, run.Exit);
        Assert.Contains("damaged", run.Error, StringComparison.Ordinal);
        Assert.Equal("damaged", await File.ReadAllTextAsync(Path.Combine(State, WitnessCommand.StateFileName(origin))));
        var cosigned = (await server.GetJsonAsync($"api/ledger/checkpoints/{chainId}/cosignatures")).GetProperty("cosignatures").EnumerateArray()
            .Select(c => c.GetProperty("size").GetInt64()).DefaultIfEmpty(0).Max();
        Assert.True(cosigned < view.GetProperty("size").GetInt64(), $"chain {chainId} was cosigned at size {cosigned} with its state damaged");
    }

    [Fact]
    public async Task VerifyReceipt_WithTheWitnessThatCosigned_OneVouchesTwoRequiredFailsTamperedFails()
    {
        await using var server = await LocalServer.StartInProcessAsync();
        var (_, captured, _) = await server.CaptureAsync(CaptureEndpointsTests.Document(CaptureEndpointsTests.Event("urn:epc:id:sgtin:0614141.107346.1")));
        await server.WaitSealedAsync(captured.GetProperty("captureId").GetString()!);
        var eventId = captured.GetProperty("eventIds")[0].GetString()!;
        var verifierKey = await RegisterAsync(server);
        var other = (await CliRun.BtmcAsync("witness", "keygen", "--name", "witness.test/w2", "--out", Path.Combine(_folder, "w2.pem"))).Output.Trim();
        Assert.Equal(0, (await WitnessOnceAsync(server)).Exit);
        var receiptFile = Path.Combine(_folder, "receipt.json");
        var fetched = await CliRun.BtmcAsync("receipt", eventId, "--url", server.BaseUrl, "--api-key-file", server.ApiKeyFile, "--out", receiptFile);
        Assert.True(fetched.Exit == 0, fetched.Error);

        var one = await CliRun.BtmcAsync("verify-receipt", receiptFile, "--witness-key", verifierKey, "--witnesses", "1");
        var two = await CliRun.BtmcAsync("verify-receipt", receiptFile, "--witness-key", verifierKey, "--witness-key", other, "--witnesses", "2");
        var tamperedFile = Path.Combine(_folder, "tampered.json");
        var json = System.Text.Json.Nodes.JsonNode.Parse(await File.ReadAllTextAsync(receiptFile))!;
        json["treeLeafIndex"] = json["treeLeafIndex"]!.GetValue<long>() + 1;
        await File.WriteAllTextAsync(tamperedFile, json.ToJsonString());
        var tampered = await CliRun.BtmcAsync("verify-receipt", tamperedFile, "--witness-key", verifierKey, "--witnesses", "1");

        Assert.True(one.Exit == 0, one.Error);
        Assert.Contains("witnessed by witness.test/w1", one.Output, StringComparison.Ordinal);
        Assert.Equal(1, two.Exit);
        Assert.Contains("1 of the 2 required witnesses", two.Error, StringComparison.Ordinal);
        Assert.Equal(1, tampered.Exit);
        Assert.Contains("INVALID", tampered.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Witness_EcdsaKeyFileAndKeyVaultKey_CosignTheEcdsaVariantTheLedgerAccepts()
    {
        await using var server = await LocalServer.StartInProcessAsync();
        await using var vault = await LoopbackKeyVault.StartAsync();
        var keyVault = new KeyVaultAccess(vault.Credential, vault.Transport);
        await SealAsync(server, "urn:epc:id:sgtin:0614141.107346.1");
        var ecFile = Path.Combine(_folder, "ec.pem");
        Assert.Equal(0, await BtmcCli.RunAsync(["committee", "keygen", "--out", ecFile], TextWriter.Null, TextWriter.Null));
        var vaultKey = vault.KeyIdOf(vault.AddKey("witness-kv", "P-256")).AbsoluteUri;
        var secp256k1 = vault.KeyIdOf(vault.AddKey("witness-k1", "P-256K")).AbsoluteUri;

        foreach (var (name, key) in new[] { ("witness.test/ec", ecFile), ("witness.test/kv", vaultKey) })
        {
            var output = new StringWriter();
            Assert.Equal(0, await BtmcCli.RunAsync(["witness", "vkey", "--name", name, "--key", key], output, TextWriter.Null, keyVault: keyVault));
            var verifierKey = output.ToString().Trim();
            Assert.Equal(CosignatureAlgorithm.EcdsaP256, Cosigner.ParseVerifierKey(verifierKey).Algorithm);
            Assert.Equal(0, (await CliRun.BtmcAsync("witness", "add", "--url", server.BaseUrl, "--api-key-file", server.OperatorKeyFile, "--verifier-key", verifierKey)).Exit);
            var error = new StringWriter();
            var exit = await BtmcCli.RunAsync(["witness", "--url", server.BaseUrl, "--key", key, "--state", Path.Combine(_folder, name.Replace('/', '-')), "--name", name, "--once"], TextWriter.Null, error, keyVault: keyVault);
            Assert.True(exit == 0, error.ToString());
        }

        var refused = new StringWriter();
        Assert.Equal(BtmcCli.UsageError, await BtmcCli.RunAsync(["witness", "vkey", "--name", "witness.test/k1", "--key", secp256k1], TextWriter.Null, refused, keyVault: keyVault));
        Assert.Contains("P-256", refused.ToString(), StringComparison.Ordinal);
        var chainId = (await server.GetJsonAsync("api/ledger/checkpoints")).GetProperty("chains")[0].GetProperty("chainId").GetString()!;
        var cosigned = (await server.GetJsonAsync($"api/ledger/checkpoints/{chainId}/cosignatures")).GetProperty("cosignatures").EnumerateArray()
            .Select(c => c.GetProperty("witness").GetString()).ToList();
        Assert.Equal(["witness.test/ec", "witness.test/kv"], cosigned);
    }

    [Fact]
    public async Task Witness_OnTableStorage_ReceiptCarriesTheFirstCoveringCosignature()
    {
        // Azurite's Table service: the cosignatures' row-key range query is Azure's, not the embedded store's.
        var prefix = "w" + Guid.NewGuid().ToString("N")[..12];
        await using var server = await LocalServer.StartInProcessAsync(null, "--Tables:ConnectionString", EventHubsSealingTests.AzuriteConnectionString(), "--Supply:TablePrefix", prefix);
        var (_, captured, _) = await server.CaptureAsync(CaptureEndpointsTests.Document(CaptureEndpointsTests.Event("urn:epc:id:sgtin:0614141.107346.1")));
        await server.WaitSealedAsync(captured.GetProperty("captureId").GetString()!);
        var verifierKey = await RegisterAsync(server);
        Assert.Equal(0, (await WitnessOnceAsync(server)).Exit);
        await SealAsync(server, "urn:epc:id:sgtin:0614141.107346.2");
        Assert.Equal(0, (await WitnessOnceAsync(server)).Exit);

        var receipt = Btmc.Supply.Receipts.Receipt.FromJson((await server.GetJsonAsync("api/ledger/receipts/" + Uri.EscapeDataString(captured.GetProperty("eventIds")[0].GetString()!))).GetRawText());

        var cosignature = Assert.Single(receipt.Cosignatures!);
        Assert.Equal(Checkpoint.Parse(SignedNote.Parse(receipt.Checkpoint!).Text).Size, Checkpoint.Parse(SignedNote.Parse(cosignature.Note).Text).Size);
        var verified = Btmc.Supply.Receipts.ReceiptVerifier.Verify(receipt, witnesses: [Cosigner.ParseVerifierKey(verifierKey)]);
        Assert.True(verified.IsValid, verified.Failure);
        Assert.Equal([Name], verified.Witnesses);
    }

    private static void CopyDirectory(string from, string to)
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
}
