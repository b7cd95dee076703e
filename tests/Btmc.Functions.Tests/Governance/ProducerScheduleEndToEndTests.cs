using System.Text.Json;
using Btmc.Chains;
using Btmc.Cli;
using Btmc.Ledger;
using Btmc.Ledger.Dpos;
using Btmc.Platform.Keys;
using Btmc.Platform.Tables;
using Xunit;

namespace Btmc.Functions.Tests.Governance;

/// <summary>The DPoS producer schedule as the running backend applies it: who signs which block, one block per slot,
/// and what chain verification says when a producer signs outside its slot.</summary>
public sealed class ProducerScheduleEndToEndTests
{
    private static readonly string[] ThreeProducers =
    [
        "--Producers:0:Id", "fab-a", "--Producers:0:Key", "fab-a.pem",
        "--Producers:1:Id", "osat-b", "--Producers:1:Key", "osat-b.pem",
        "--Producers:2:Id", "dist-c", "--Producers:2:Key", "dist-c.pem",
    ];

    [Fact]
    public async Task Sealing_ThreeProducers_EachBlockIsSignedByItsSlotsProducerAsDrawnIndependently()
    {
        await using var server = await LocalServer.StartInProcessAsync(null, ThreeProducers);
        for (var i = 0; i < 8; i++)
        {
            await server.CaptureSealedAsync(TestEvents.Commission($"urn:epc:id:sgtin:0614141.000017.{i}", i));
        }

        var overview = await server.GetJsonAsync("api/governance");
        var domain = overview.GetProperty("domain").GetString()!;
        var genesis = overview.GetProperty("genesisTime").GetDateTimeOffset().ToUnixTimeMilliseconds();
        var slot = overview.GetProperty("slotMilliseconds").GetInt32();
        var candidates = overview.GetProperty("producers").EnumerateArray()
            .Select(p => new ProducerCandidate(p.GetProperty("producer").GetString()!, p.GetProperty("publicKey").Deserialize<EcPublicJwk>()!, p.GetProperty("votes").GetInt64()))
            .ToList();
        Assert.Equal(["dist-c", "fab-a", "osat-b"], candidates.Select(c => c.ProducerId));

        var producers = new HashSet<string>(StringComparer.Ordinal);
        var blocks = 0;
        foreach (var chainId in new[] { "governance", "supply-0", "supply-1", "supply-2", "supply-3" })
        {
            // Recompute each block's producer from the published rules alone: the seed is the signature of the chain's
            // last block before the block's round.
            var previousRound = -1L;
            byte[] lastSignature = [];
            byte[] seedSignature = [];
            for (var height = 0L; ; height++)
            {
                using var response = await server.Http.GetAsync($"api/ledger/chains/{chainId}/blocks/{height}");
                if (!response.IsSuccessStatusCode)
                {
                    break;
                }

                var block = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
                var header = block.GetProperty("header");
                var since = header.GetProperty("slotTime").GetDateTimeOffset().ToUnixTimeMilliseconds() - genesis;
                Assert.Equal(0, since % slot);
                var slotNumber = since / slot;
                var round = slotNumber / 51;
                if (round != previousRound)
                {
                    seedSignature = lastSignature;
                    previousRound = round;
                }

                var expected = ProducerSchedule.Draw(candidates, ProducerSchedule.Seed(domain, chainId, round, seedSignature))[(int)(slotNumber % 51)];
                Assert.Equal(expected.ProducerId, header.GetProperty("producerId").GetString());
                Assert.Equal(expected.PublicKey.ComputeThumbprint(), header.GetProperty("keyId").GetString());
                producers.Add(expected.ProducerId);
                lastSignature = Convert.FromBase64String(block.GetProperty("signature").GetString()!);
                blocks++;
            }
        }

        Assert.True(blocks >= 9, $"{blocks} blocks");
        var verify = await server.GetJsonAsync("api/ledger/verify");
        Assert.True(verify.GetProperty("isValid").GetBoolean(), verify.ToString());
    }

    [Fact]
    public async Task VerifyChain_ProducerSignedOutsideItsSlot_FailsAndNamesTheBlock()
    {
        string data;
        await using (var server = await LocalServer.StartInProcessAsync(LocalServer.NewDataDirectory(), ThreeProducers))
        {
            await server.CaptureSealedAsync(TestEvents.Commission("urn:epc:id:sgtin:0614141.000018.1", 1));
            data = server.DataDirectory;
        }

        try
        {
            // Re-sign the sealed block as another registered producer, with that producer's own valid key.
            string chainId, owner, intruder;
            long height;
            using (var tables = new SqliteTableServiceClient(Path.Combine(data, "tables.db")))
            {
                var blocks = tables.GetTableClient("blocks");
                var row = (await blocks.QueryAsync(new TableQuery(null, null, null, 100))).Items.First(r => r.PartitionKey.StartsWith("supply-", StringComparison.Ordinal));
                var header = BlockHeader.Decode(row.GetBinary("Header"));
                (chainId, height, owner) = (header.ChainId, header.Height, header.ProducerId);
                intruder = new[] { "fab-a", "osat-b", "dist-c" }.First(p => p != owner);
                using var key = LocalKeyFileSigner.Open(Path.Combine(data, "keys", intruder + ".pem"));
                var forged = header with { ProducerId = intruder, KeyId = key.KeyId };
                // The block's entries live in a partition named by its hash: the forger moves them too.
                var entries = tables.GetTableClient("entries");
                var stored = await entries.QueryAsync(new TableQuery(ChainTables.EntriesPartition(chainId, height, header.ComputeHash()), null, null, 1000));
                foreach (var entry in stored.Items)
                {
                    await entries.UpsertEntityAsync(new TableEntity(ChainTables.EntriesPartition(chainId, height, forged.ComputeHash()), entry.RowKey, entry.Properties), TableUpdateMode.Replace);
                }

                await blocks.UpsertEntityAsync(new TableEntity(row.PartitionKey, row.RowKey, new Dictionary<string, object>(row.Properties)
                {
                    ["Header"] = forged.Encode(),
                    ["Signature"] = await key.SignDigestAsync(forged.ComputeHash()),
                    ["BlockHash"] = forged.ComputeHash().ToHex(),
                }), TableUpdateMode.Replace);
            }

            var output = new StringWriter();
            var error = new StringWriter();
            var exit = await BtmcCli.RunAsync(["verify-chain", "--data", data], output, error);

            Assert.Equal(1, exit);
            Assert.Contains($"BROKEN  {chainId}: block {height}: slot ", error.ToString(), StringComparison.Ordinal);
            Assert.Contains($"belongs to producer '{owner}', but the block names '{intruder}'", error.ToString(), StringComparison.Ordinal);
            Assert.Contains("OK      governance", output.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task Sealing_ThreeSecondSlots_BlocksOfAChainSitAtDistinctSlotStarts()
    {
        await using var server = await LocalServer.StartInProcessAsync(null, "--Governance:SlotMilliseconds", "3000", "--Supply:Partitions", "1");
        var overview = await server.GetJsonAsync("api/governance");
        Assert.Equal(3000, overview.GetProperty("slotMilliseconds").GetInt32());
        Assert.Equal(51, overview.GetProperty("slotsPerRound").GetInt32());
        var genesis = overview.GetProperty("genesisTime").GetDateTimeOffset();

        await server.CaptureSealedAsync(TestEvents.Commission("urn:epc:id:sgtin:0614141.000019.1", 1));
        await server.CaptureSealedAsync(TestEvents.Commission("urn:epc:id:sgtin:0614141.000019.2", 2));

        var first = (await server.GetJsonAsync("api/ledger/chains/supply-0/blocks/0")).GetProperty("header").GetProperty("slotTime").GetDateTimeOffset();
        var second = (await server.GetJsonAsync("api/ledger/chains/supply-0/blocks/1")).GetProperty("header").GetProperty("slotTime").GetDateTimeOffset();
        Assert.Equal(0, (first - genesis).TotalMilliseconds % 3000);
        Assert.Equal(0, (second - genesis).TotalMilliseconds % 3000);
        Assert.True(second - first >= TimeSpan.FromSeconds(3), $"{first:O} then {second:O}");
    }
}
