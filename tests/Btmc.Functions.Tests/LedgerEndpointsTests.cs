using System.Net;
using Btmc.Chains;
using Btmc.Cli;
using Btmc.Platform.Tables;
using Xunit;

namespace Btmc.Functions.Tests;

public sealed class LedgerEndpointsTests
{
    [Fact]
    public async Task Verify_FlippedByteInAStoredEvent_NamesTheDamagedBlock()
    {
        var data = LocalServer.NewDataDirectory();
        try
        {
            await SealThreeRoundsAsync(data);
            Assert.Equal(0, await BtmcCli.RunAsync(["verify-chain", "--data", data], TextWriter.Null, TextWriter.Null));

            var (chainId, height) = await FlipByteAsync(data, "entries", "Event");

            var error = new StringWriter();
            var exit = await BtmcCli.RunAsync(["verify-chain", "--data", data], TextWriter.Null, error);
            Assert.Equal(1, exit);
            Assert.Contains($"BROKEN  {chainId}: block {height}: entry 0", error.ToString(), StringComparison.Ordinal);

            await using var server = await LocalServer.StartInProcessAsync(data);
            var audit = await server.GetJsonAsync("api/ledger/verify");
            Assert.False(audit.GetProperty("isValid").GetBoolean());
            var broken = audit.GetProperty("chains").EnumerateArray().Single(c => c.GetProperty("fault").ValueKind != System.Text.Json.JsonValueKind.Null);
            Assert.Equal(chainId, broken.GetProperty("chainId").GetString());
            Assert.Equal(height, broken.GetProperty("fault").GetProperty("height").GetInt64());
            Assert.Equal(height, broken.GetProperty("blocks").GetInt64());
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task Verify_FlippedByteInABlockHeader_NamesThatBlock()
    {
        var data = LocalServer.NewDataDirectory();
        try
        {
            await SealThreeRoundsAsync(data);

            var (chainId, height) = await FlipByteAsync(data, "blocks", "Header");

            var error = new StringWriter();
            Assert.Equal(1, await BtmcCli.RunAsync(["verify-chain", "--data", data], TextWriter.Null, error));
            Assert.Contains($"BROKEN  {chainId}: block {height}:", error.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task ChainsAndBlocks_AfterSealing_DescribeSignedLinkedBlocks()
    {
        await using var server = await LocalServer.StartInProcessAsync();
        for (var round = 0; round < 2; round++)
        {
            var (_, body, _) = await server.CaptureAsync(CaptureEndpointsTests.Document(
                Enumerable.Range(0, 8).Select(i => CaptureEndpointsTests.Event($"urn:epc:id:sgtin:0614141.107346.{round}0{i}")).ToArray()));
            await server.WaitSealedAsync(body.GetProperty("captureId").GetString()!);
        }

        var chains = await server.GetJsonAsync("api/ledger/chains");
        var chain = chains.GetProperty("chains").EnumerateArray().First(c => c.GetProperty("height").GetInt64() >= 1);
        var chainId = chain.GetProperty("chainId").GetString()!;
        var block0 = await server.GetJsonAsync($"api/ledger/chains/{chainId}/blocks/0");
        var block1 = await server.GetJsonAsync($"api/ledger/chains/{chainId}/blocks/1");
        using var missing = await server.Http.GetAsync($"api/ledger/chains/{chainId}/blocks/99");
        var verify = await server.GetJsonAsync("api/ledger/verify");

        Assert.Equal(block0.GetProperty("blockHash").GetString(), block1.GetProperty("header").GetProperty("previousHash").GetString());
        Assert.Equal(block1.GetProperty("header").GetProperty("leafCount").GetInt64(), block1.GetProperty("entries").GetArrayLength());
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.True(verify.GetProperty("isValid").GetBoolean());
        Assert.Equal(16, chains.GetProperty("totalEntries").GetInt64());
    }

    [Fact]
    public async Task Restart_SameDataFolder_KeepsChainsReceiptsAndKeyAndContinuesTheChains()
    {
        var data = LocalServer.NewDataDirectory();
        try
        {
            string eventId;
            string keyBefore;
            long heightsBefore;
            await using (var first = await LocalServer.StartInProcessAsync(data))
            {
                var (_, body, _) = await first.CaptureAsync(CaptureEndpointsTests.Document(
                    Enumerable.Range(0, 8).Select(i => CaptureEndpointsTests.Event($"urn:epc:id:sgtin:0614141.000004.{i}")).ToArray()));
                await first.WaitSealedAsync(body.GetProperty("captureId").GetString()!);
                eventId = body.GetProperty("eventIds")[0].GetString()!;
                keyBefore = (await first.GetJsonAsync("api/ledger/receipts/" + Uri.EscapeDataString(eventId))).GetProperty("producerKey").GetProperty("kid").GetString()!;
                heightsBefore = (await first.GetJsonAsync("api/ledger/chains")).GetProperty("chains").EnumerateArray().Sum(c => c.GetProperty("height").GetInt64() + 1);
            }

            await using var second = await LocalServer.StartInProcessAsync(data);
            var receipt = await second.GetJsonAsync("api/ledger/receipts/" + Uri.EscapeDataString(eventId));
            var (_, more, _) = await second.CaptureAsync(CaptureEndpointsTests.Document(
                Enumerable.Range(0, 8).Select(i => CaptureEndpointsTests.Event($"urn:epc:id:sgtin:0614141.000005.{i}")).ToArray()));
            await second.WaitSealedAsync(more.GetProperty("captureId").GetString()!);
            var chains = await second.GetJsonAsync("api/ledger/chains");
            var verify = await second.GetJsonAsync("api/ledger/verify");

            Assert.Equal(keyBefore, receipt.GetProperty("producerKey").GetProperty("kid").GetString());
            Assert.Equal(16, chains.GetProperty("totalEntries").GetInt64());
            Assert.True(chains.GetProperty("chains").EnumerateArray().Sum(c => c.GetProperty("height").GetInt64() + 1) > heightsBefore);
            Assert.True(verify.GetProperty("isValid").GetBoolean());
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    /// <summary>Three rounds of captures, each waited for, so that chains have several blocks.</summary>
    private static async Task SealThreeRoundsAsync(string data)
    {
        await using var server = await LocalServer.StartInProcessAsync(data);
        for (var round = 0; round < 3; round++)
        {
            var events = Enumerable.Range(0, 12).Select(i => CaptureEndpointsTests.Event($"urn:epc:id:sgtin:0614141.107346.{round}{i:D2}")).ToArray();
            var (status, body, _) = await server.CaptureAsync(CaptureEndpointsTests.Document(events));
            Assert.Equal(HttpStatusCode.Accepted, status);
            await server.WaitSealedAsync(body.GetProperty("captureId").GetString()!);
        }
    }

    /// <summary>Flips one bit of one byte of a binary property in block 1 of the first chain that has one.</summary>
    private static async Task<(string ChainId, long Height)> FlipByteAsync(string data, string table, string property)
    {
        using var service = new SqliteTableServiceClient(Path.Combine(data, "tables.db"));
        var tables = new ChainTables(service);
        var chains = await tables.Heads.QueryAsync(new TableQuery(ChainTables.HeadsPartition));
        var chainId = chains.Items.First(c => c.GetInt64("Height") >= 1).RowKey;
        const long height = 1;
        var client = service.GetTableClient(table);
        var block = await new ChainReader(tables).GetBlockAsync(chainId, height);
        Assert.NotNull(block);
        var row = table == "entries"
            ? await client.GetEntityIfExistsAsync(ChainTables.EntriesPartition(chainId, height, block.BlockHash), ChainTables.LeafKey(0))
            : await client.GetEntityIfExistsAsync(chainId, ChainTables.HeightKey(height));
        Assert.NotNull(row);
        var bytes = (byte[])row.GetBinary(property).Clone();
        var at = Array.IndexOf(bytes, (byte)'7') is var seven and >= 0 ? seven : bytes.Length / 2;
        bytes[at] ^= 0x01;
        var properties = new Dictionary<string, object>(row.Properties) { [property] = bytes };
        await client.UpdateEntityAsync(row with { Properties = properties }, "*", TableUpdateMode.Replace);
        return (chainId, height);
    }
}
