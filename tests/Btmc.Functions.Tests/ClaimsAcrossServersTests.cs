using System.Net;
using System.Text.Json;
using Btmc.Testing;
using Xunit;
using static Btmc.Functions.Tests.CaptureEndpointsTests;
using static Btmc.Functions.Tests.TestEvents;

namespace Btmc.Functions.Tests;

/// <summary>
/// Physical-consistency claims across servers (docs/epcis-capture.md, "Physical consistency"): two server processes
/// on one table store (Azurite), both accepting captures (Event Hubs mode: each publishes to the supply-events hub,
/// none seals here), so nothing but the claims table can tell one server what the other accepted.
/// </summary>
public sealed class ClaimsAcrossServersTests
{
    internal const int Captures = 16;

    [Fact]
    public async Task Capture_SixteenCommissioningsOfOneEpcSplitOverTwoServerProcesses_OneAcceptedTheRest409NamingIt()
    {
        const string epc = "urn:epc:id:sgtin:0614141.700001.1";
        await using var hub = await SimulatedSupplyHub.StartAsync();
        await using var servers = await TwoServers.StartAsync(hub);

        var results = await servers.CaptureSplitAsync(i => Document(Commission(epc, i)));

        AssertOneAcceptedRestConflict(results, epc, "/epcisBody/eventList/0/epcList/0");
        Assert.Single(hub.Messages());
    }

    [Fact]
    public async Task Capture_SixteenTransformationsConsumingOneInputSplitOverTwoServerProcesses_OneAcceptedTheRest409NamingIt()
    {
        const string input = "urn:epc:id:sgtin:0614141.700002.1";
        await using var hub = await SimulatedSupplyHub.StartAsync();
        await using var servers = await TwoServers.StartAsync(hub);

        var results = await servers.CaptureSplitAsync(i => Document(Transformation([input], [$"urn:epc:id:sgtin:0614141.700003.{i}"], i)));

        AssertOneAcceptedRestConflict(results, input, "/epcisBody/eventList/0/inputEPCList/0");
        Assert.Single(hub.Messages());
    }

    private static void AssertOneAcceptedRestConflict(IReadOnlyList<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> results, string epc, string pointer)
    {
        var accepted = results.Where(r => r.Status == HttpStatusCode.Accepted).ToList();
        Assert.True(accepted.Count == 1, $"{accepted.Count} of {Captures} accepted: {string.Join(" | ", results.Select(r => $"{(int)r.Status} {r.Body}"))}");
        var winner = accepted[0].Body.GetProperty("eventIds")[0].GetString()!;
        var refused = results.Where(r => r.Status != HttpStatusCode.Accepted).ToList();
        Assert.Equal(Captures - 1, refused.Count);
        Assert.All(refused, r =>
        {
            Assert.True(r.Status == HttpStatusCode.Conflict, $"{(int)r.Status} {r.Body}");
            Assert.Equal("application/problem+json", r.Response.Content.Headers.ContentType?.MediaType);
            var error = Assert.Single(r.Body.GetProperty("errors").EnumerateArray());
            Assert.Equal(pointer, error.GetProperty("pointer").GetString());
            var detail = error.GetProperty("detail").GetString();
            Assert.Contains($"'{Btmc.Epcis.EventTerms.CanonicalEpc(epc)}'", detail, StringComparison.Ordinal);
            Assert.Contains(winner, detail, StringComparison.Ordinal);
        });
    }

    /// <summary>Two server processes (the built handler) with data folders of their own, on one Azurite table store (also
    /// used by the ownership race, Assets/OwnershipAcrossServersTests)
    /// under a fresh prefix, publishing to one hub and signing as one producer.</summary>
    internal sealed class TwoServers : IAsyncDisposable
    {
        private readonly TempDirectory _folders = new();
        private readonly List<LocalServer> _servers = [];

        public LocalServer First => _servers[0];

        public static async Task<TwoServers> StartAsync(SimulatedSupplyHub hub)
        {
            var servers = new TwoServers();
            try
            {
                string[] settings = [.. hub.ServerSettings, "--Tables:ConnectionString", EventHubsSealingTests.AzuriteConnectionString(),
                    "--Supply:TablePrefix", "c" + Guid.NewGuid().ToString("N")[..12],
                    "--Producers:0:Id", "local-producer", "--Producers:0:Key", Path.Combine(servers._folders.Path, "producer.pem")];
                // One after the other: the first creates the shared producer key file the second reads.
                for (var i = 0; i < 2; i++)
                {
                    var data = Directory.CreateDirectory(Path.Combine(servers._folders.Path, $"server{i}")).FullName;
                    var server = await LocalServer.StartProcessAsync(data, settings);
                    // The partner registry is the ledger's: the first server's local key works on the second too.
                    servers._servers.Add(i == 0 ? server : server.CopyKeysFrom(servers._servers[0]));
                }

                return servers;
            }
            catch
            {
                await servers.DisposeAsync();
                throw;
            }
        }

        /// <summary>Sends the documents all at once, even-numbered to the first server, odd-numbered to the second.</summary>
        public async Task<IReadOnlyList<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)>> CaptureSplitAsync(Func<int, byte[]> document) =>
            await Task.WhenAll(Enumerable.Range(0, Captures).Select(i => Task.Run(() => _servers[i % 2].CaptureAsync(document(i)))));

        public async ValueTask DisposeAsync()
        {
            foreach (var server in _servers)
            {
                await server.DisposeAsync();
            }

            _folders.Dispose();
        }
    }
}
