using System.Net;
using System.Text.Json;
using Btmc.Chains;
using Btmc.Cli;
using Btmc.Platform.Tables;
using Xunit;

namespace Btmc.Functions.Tests.Ledger;

/// <summary>
/// The leaf-material endpoint and the independent verification over it, on a real server over loopback HTTP and real
/// SQLite: <c>btmc verify-chain --url</c> (whole, and after trusted checkpoints) and <c>btmc export</c>.
/// </summary>
public sealed class LeafEndpointsTests
{
    private static async Task SealRoundsAsync(LocalServer server, int rounds, string tag, int events = 8)
    {
        for (var round = 0; round < rounds; round++)
        {
            var (status, body, _) = await server.CaptureAsync(CaptureEndpointsTests.Document(
                Enumerable.Range(0, events).Select(i => CaptureEndpointsTests.Event($"urn:epc:id:sgtin:0614141.107346.{tag}{round}{i:D2}")).ToArray()));
            Assert.Equal(HttpStatusCode.Accepted, status);
            await server.WaitSealedAsync(body.GetProperty("captureId").GetString()!);
        }
    }

    /// <summary>The supply chains' entries the OK lines of a verify-chain run report.</summary>
    private static long SupplyEntries(string output) =>
        output.Split('\n').Where(l => l.StartsWith("OK      supply", StringComparison.Ordinal))
            .Sum(l => long.Parse(System.Text.RegularExpressions.Regex.Match(l, @"(\d+) entries").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>Flips one bit of a binary property of block <paramref name="height"/> of <paramref name="chainId"/> (its row, or its first entry's).</summary>
    private static async Task FlipAsync(string database, string chainId, long height, string table, string property)
    {
        using var service = new SqliteTableServiceClient(database);
        var tables = new ChainTables(service);
        var block = await new ChainReader(tables).GetBlockAsync(chainId, height);
        Assert.NotNull(block);
        var client = service.GetTableClient(table);
        var row = table == "entries"
            ? await client.GetEntityIfExistsAsync(ChainTables.EntriesPartition(chainId, height, block.BlockHash), ChainTables.LeafKey(0))
            : await client.GetEntityIfExistsAsync(chainId, ChainTables.HeightKey(height));
        Assert.NotNull(row);
        var bytes = (byte[])row.GetBinary(property).Clone();
        // In a header, a byte of the Merkle root: a flip elsewhere (the slot time) could stop the server from starting
        // at all, which is another test's matter. In an entry's hash, any byte.
        var at = property == "Header" ? bytes.AsSpan().IndexOf(block.Header.MerkleRoot.AsSpan()) : bytes.Length / 2;
        bytes[at] ^= 0x01;
        await client.UpdateEntityAsync(row with { Properties = new Dictionary<string, object>(row.Properties) { [property] = bytes } }, "*", TableUpdateMode.Replace);
    }

    /// <summary>A supply chain with at least two blocks, and its head's height.</summary>
    private static async Task<(string ChainId, long Height)> LongestSupplyChainAsync(LocalServer server) =>
        (await server.GetJsonAsync("api/ledger/chains")).GetProperty("chains").EnumerateArray()
            .Select(c => (c.GetProperty("chainId").GetString()!, c.GetProperty("height").GetInt64()))
            .OrderByDescending(c => c.Item2).First();

    [Fact]
    public async Task ListBlocks_WithoutAKey_Is401()
    {
        await using var server = await LocalServer.StartInProcessAsync();
        await SealRoundsAsync(server, 1, "1");
        using var anonymous = server.ClientAs(null);

        using var response = await anonymous.GetAsync("api/ledger/chains/governance/blocks");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task ListBlocks_SupplyChain_LeafMaterialWithoutEventBodies()
    {
        await using var server = await LocalServer.StartInProcessAsync();
        await SealRoundsAsync(server, 1, "2");
        var (chainId, height) = await LongestSupplyChainAsync(server);

        var raw = await server.Http.GetStringAsync($"api/ledger/chains/{chainId}/blocks?from=0&limit=500");
        var page = JsonSerializer.Deserialize<LeafPage>(raw, JsonSerializerOptions.Web)!;
        var governance = JsonSerializer.Deserialize<LeafPage>(await server.Http.GetStringAsync("api/ledger/chains/governance/blocks"), JsonSerializerOptions.Web)!;

        Assert.False(page.Records);
        Assert.Equal(height + 1, page.Blocks.Count);
        Assert.Null(page.Next);
        Assert.All(page.Blocks.SelectMany(b => b.Entries!), e => Assert.Null(e.Record));
        Assert.All(page.Blocks.SelectMany(b => b.Entries!), e => Assert.StartsWith("ni:///sha-256;", e.EventId, StringComparison.Ordinal));
        Assert.DoesNotContain("0614141", raw, StringComparison.Ordinal);
        Assert.All(page.Blocks, b => Assert.True(page.ProducerKeys.ContainsKey(Btmc.Ledger.BlockHeader.Decode(b.Header).KeyId)));
        Assert.True(governance.Records);
        Assert.All(governance.Blocks.SelectMany(b => b.Entries!), e => Assert.NotNull(e.Record));
    }

    [Theory]
    [InlineData("from=-1", "from")]
    [InlineData("from=x", "from")]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=501", "limit")]
    [InlineData("entries=maybe", "entries")]
    public async Task ListBlocks_BadQueryValue_400NamingTheField(string query, string field)
    {
        await using var server = await LocalServer.StartInProcessAsync();

        using var response = await server.Http.GetAsync($"api/ledger/chains/governance/blocks?{query}");
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(field, problem.GetProperty("field").GetString());
    }

    [Fact]
    public async Task ListBlocks_SmallLimit_PagesThroughTheChain()
    {
        await using var server = await LocalServer.StartInProcessAsync();
        await SealRoundsAsync(server, 3, "3");
        var (chainId, height) = await LongestSupplyChainAsync(server);

        var heights = new List<long>();
        long? next = 0;
        while (next is { } from)
        {
            var page = JsonSerializer.Deserialize<LeafPage>(await server.Http.GetStringAsync($"api/ledger/chains/{chainId}/blocks?from={from}&limit=1"), JsonSerializerOptions.Web)!;
            heights.AddRange(page.Blocks.Select(b => b.Height));
            next = page.Next;
        }

        Assert.Equal(Enumerable.Range(0, (int)height + 1).Select(h => (long)h), heights);
    }

    [Fact]
    public async Task VerifyChainUrl_SealedServer_VerifiesEveryChainOnTheClient()
    {
        await using var server = await LocalServer.StartInProcessAsync();
        await SealRoundsAsync(server, 2, "4");
        var serverAudit = await server.GetJsonAsync("api/ledger/verify");

        var (exit, output, error) = await CliRun.BtmcAsync("verify-chain", "--url", server.BaseUrl, "--api-key-file", server.ApiKeyFile);

        Assert.True(exit == 0, output + error);
        Assert.Contains("OK      governance:", output, StringComparison.Ordinal);
        Assert.Contains("NOTE    supply chains are checked from their leaf material only", output, StringComparison.Ordinal);
        Assert.Equal(16, SupplyEntries(output));
        Assert.Contains($"{serverAudit.GetProperty("chains").GetArrayLength()} chains, {serverAudit.GetProperty("chains").EnumerateArray().Sum(c => c.GetProperty("blocks").GetInt64())} blocks", output, StringComparison.Ordinal);
        Assert.EndsWith("valid", output.TrimEnd(), StringComparison.Ordinal);
        Assert.Contains("]", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyChainUrl_WithoutAKey_FailsWith401()
    {
        await using var server = await LocalServer.StartInProcessAsync();

        var (exit, _, error) = await CliRun.BtmcAsync("verify-chain", "--url", server.BaseUrl);

        Assert.Equal(1, exit);
        Assert.Contains("401", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("blocks", "Header")]
    [InlineData("entries", "EventHash")]
    public async Task VerifyChainUrl_FlippedByteOnTheServer_NamesTheBlock(string table, string property)
    {
        var data = LocalServer.NewDataDirectory();
        try
        {
            string chainId;
            await using (var first = await LocalServer.StartInProcessAsync(data))
            {
                await SealRoundsAsync(first, 3, "5");
                (chainId, _) = await LongestSupplyChainAsync(first);
            }

            await FlipAsync(Path.Combine(data, "tables.db"), chainId, 1, table, property);
            await using var second = await LocalServer.StartInProcessAsync(data);

            var (exit, _, error) = await CliRun.BtmcAsync("verify-chain", "--url", second.BaseUrl, "--api-key-file", second.ApiKeyFile);

            Assert.Equal(1, exit);
            Assert.Contains($"BROKEN  {chainId}: block 1:", error, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task VerifyChainUrl_FromSavedCheckpoints_VerifiesOnlyTheGrowth()
    {
        await using var server = await LocalServer.StartInProcessAsync();
        await SealRoundsAsync(server, 2, "6");
        var notes = Path.Combine(server.DataDirectory, "trusted.notes");
        var (firstExit, firstOutput, firstError) = await CliRun.BtmcAsync("verify-chain", "--url", server.BaseUrl, "--api-key-file", server.ApiKeyFile, "--save-checkpoints", notes);
        Assert.True(firstExit == 0, firstOutput + firstError);
        Assert.Equal(16, SupplyEntries(firstOutput));
        var before = (await server.GetJsonAsync("api/ledger/chains")).GetProperty("chains").EnumerateArray()
            .ToDictionary(c => c.GetProperty("chainId").GetString()!, c => c.GetProperty("height").GetInt64());

        await SealRoundsAsync(server, 1, "7", events: 5);
        var after = (await server.GetJsonAsync("api/ledger/chains")).GetProperty("chains").EnumerateArray()
            .ToDictionary(c => c.GetProperty("chainId").GetString()!, c => c.GetProperty("height").GetInt64());
        var (exit, output, error) = await CliRun.BtmcAsync("verify-chain", "--url", server.BaseUrl, "--api-key-file", server.ApiKeyFile, "--from-checkpoint", notes);

        Assert.True(exit == 0, output + error);
        Assert.Equal(5, SupplyEntries(output));
        foreach (var (chainId, height) in after.Where(c => before.ContainsKey(c.Key)))
        {
            Assert.Contains($"OK      {chainId}: from size ", output, StringComparison.Ordinal);
            Assert.Contains($"(block {before[chainId] + 1} on): {height - before[chainId]} blocks", output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task VerifyChainUrl_FromCheckpointThenHistoryRewrittenAfterIt_NamesTheBlock()
    {
        var data = LocalServer.NewDataDirectory();
        var notes = Path.Combine(Path.GetTempPath(), $"btmc-notes-{Guid.NewGuid():N}");
        try
        {
            string chainId;
            long height;
            await using (var first = await LocalServer.StartInProcessAsync(data))
            {
                await SealRoundsAsync(first, 1, "8");
                Assert.Equal(0, (await CliRun.BtmcAsync("verify-chain", "--url", first.BaseUrl, "--api-key-file", first.ApiKeyFile, "--save-checkpoints", notes)).Exit);
                await SealRoundsAsync(first, 2, "9");
                (chainId, height) = await LongestSupplyChainAsync(first);
            }

            await FlipAsync(Path.Combine(data, "tables.db"), chainId, height, "entries", "EventHash");
            await using var second = await LocalServer.StartInProcessAsync(data);

            var (exit, _, error) = await CliRun.BtmcAsync("verify-chain", "--url", second.BaseUrl, "--api-key-file", second.ApiKeyFile, "--from-checkpoint", notes);

            Assert.Equal(1, exit);
            Assert.Matches($@"BROKEN  {chainId}: block {height}: .*\(from size \d+ to \d+ \(block \d+ on\): \d+ blocks verified before it\)", error);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
            File.Delete(notes);
        }
    }

    [Fact]
    public async Task VerifyChainUrl_FromCheckpointThenTrustedBlockRewritten_Fails()
    {
        var data = LocalServer.NewDataDirectory();
        var notes = Path.Combine(Path.GetTempPath(), $"btmc-notes-{Guid.NewGuid():N}");
        try
        {
            string chainId;
            long height;
            await using (var first = await LocalServer.StartInProcessAsync(data))
            {
                await SealRoundsAsync(first, 2, "a");
                (chainId, height) = await LongestSupplyChainAsync(first);
                Assert.Equal(0, (await CliRun.BtmcAsync("verify-chain", "--url", first.BaseUrl, "--api-key-file", first.ApiKeyFile, "--save-checkpoints", notes)).Exit);
            }

            await FlipAsync(Path.Combine(data, "tables.db"), chainId, height, "blocks", "Header");
            await using var second = await LocalServer.StartInProcessAsync(data);

            var (exit, _, error) = await CliRun.BtmcAsync("verify-chain", "--url", second.BaseUrl, "--api-key-file", second.ApiKeyFile, "--from-checkpoint", notes);

            Assert.Equal(1, exit);
            Assert.Contains($"BROKEN  {chainId}: block {height}: block {height}'s header does not hash to what the trusted checkpoint names", error, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
            File.Delete(notes);
        }
    }

    [Fact]
    public async Task VerifyChainUrl_FromAnotherLedgersCheckpoints_FailsEveryTrustedChain()
    {
        await using var other = await LocalServer.StartInProcessAsync();
        await SealRoundsAsync(other, 1, "e");
        var notes = Path.Combine(other.DataDirectory, "other.notes");
        Assert.Equal(0, (await CliRun.BtmcAsync("verify-chain", "--url", other.BaseUrl, "--api-key-file", other.ApiKeyFile, "--save-checkpoints", notes)).Exit);
        await using var server = await LocalServer.StartInProcessAsync();
        await SealRoundsAsync(server, 1, "e");

        var (exit, _, error) = await CliRun.BtmcAsync("verify-chain", "--url", server.BaseUrl, "--api-key-file", server.ApiKeyFile, "--from-checkpoint", notes);

        Assert.Equal(1, exit);
        Assert.Contains("BROKEN  governance: ", error, StringComparison.Ordinal);
        Assert.Contains("the verified chain does not hold the trusted checkpoint", error, StringComparison.Ordinal);
        Assert.Matches("BROKEN  supply-[0-9]+: block [0-9]+: the server's checkpoint of size [0-9]+ is not the trusted one|the server has no checkpoint of size", error);
    }

    [Fact]
    public async Task Export_ThenVerifyData_Passes_AndAFlippedByteInTheExportFails()
    {
        await using var server = await LocalServer.StartInProcessAsync();
        await SealRoundsAsync(server, 2, "b");
        var (chainId, height) = await LongestSupplyChainAsync(server);
        var folder = Path.Combine(server.DataDirectory, "export");

        var (exported, exportOutput, exportError) = await CliRun.BtmcAsync("export", "--url", server.BaseUrl, "--api-key-file", server.ApiKeyFile, "--chain", chainId, "--out", folder);
        var (valid, output, error) = await CliRun.BtmcAsync("verify-chain", "--data", folder);
        await FlipAsync(Path.Combine(folder, "tables.db"), chainId, height, "entries", "EventHash");
        var (broken, _, brokenError) = await CliRun.BtmcAsync("verify-chain", "--data", folder);

        Assert.True(exported == 0, exportOutput + exportError);
        Assert.True(File.Exists(Path.Combine(folder, "checkpoints", chainId + ".note")));
        Assert.True(File.Exists(Path.Combine(folder, "checkpoints", "governance.note")));
        Assert.True(valid == 0, output + error);
        Assert.Contains("OK      governance:", output, StringComparison.Ordinal);
        Assert.Contains($"OK      {chainId}: {height + 1} blocks", output, StringComparison.Ordinal);
        Assert.Contains("NOTE    supply chains are checked from their leaf material only", output, StringComparison.Ordinal);
        Assert.Equal(1, broken);
        Assert.Contains($"BROKEN  {chainId}: block {height}:", brokenError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Export_AgainIntoThePreviousExport_ExtendsIt_AndANonEmptyOtherFolderIsRefused()
    {
        await using var server = await LocalServer.StartInProcessAsync();
        await SealRoundsAsync(server, 1, "c");
        var folder = Path.Combine(server.DataDirectory, "export");
        var other = Directory.CreateDirectory(Path.Combine(server.DataDirectory, "other"));
        await File.WriteAllTextAsync(Path.Combine(other.FullName, "mine.txt"), "not an export");

        Assert.Equal(0, (await CliRun.BtmcAsync("export", "--url", server.BaseUrl, "--api-key-file", server.ApiKeyFile, "--out", folder)).Exit);
        await SealRoundsAsync(server, 1, "d");
        var (again, againOutput, _) = await CliRun.BtmcAsync("export", "--url", server.BaseUrl, "--api-key-file", server.ApiKeyFile, "--out", folder);
        var (valid, output, error) = await CliRun.BtmcAsync("verify-chain", "--data", folder);
        var (refused, _, refusal) = await CliRun.BtmcAsync("export", "--url", server.BaseUrl, "--api-key-file", server.ApiKeyFile, "--out", other.FullName);

        Assert.Equal(0, again);
        Assert.Contains("extending the previous export", againOutput, StringComparison.Ordinal);
        Assert.True(valid == 0, output + error);
        Assert.Equal(16, SupplyEntries(output));
        Assert.Equal(BtmcCli.UsageError, refused);
        Assert.Contains("not empty", refusal, StringComparison.Ordinal);
    }
}
