using System.Net;
using System.Text.Json;
using Xunit;

namespace Btmc.Functions.Tests.Supply;

/// <summary>
/// Master data over HTTP (docs/epcis-capture.md, "Master data"; docs/epcis-query.md, "Master data"): two competing
/// partners, a site hierarchy given by the owner of its GLNs, attributes, and a private vocabulary.
/// </summary>
public sealed class MasterDataEndpointsTests : IAsyncLifetime
{
    private const string Owner = "site-a", Rival = "rival-b";
    private const string Site = "urn:epc:id:sgln:4012345.00001.0";
    private const string Hall = "urn:epc:id:sgln:4012345.00001.1";
    private const string Dock = "urn:epc:id:sgln:4012345.00001.2";
    private const string Elsewhere = "urn:epc:id:sgln:4012345.00002.0";
    private const string PrivateZone = "urn:example:site-a:zone-1";

    private LocalServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await LocalServer.StartInProcessAsync();
        await _server.AddPartnerAsync(Owner, ["4012345"]);
        await _server.AddPartnerAsync(Rival, ["4098765"]);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static string Vocabulary(string type, params string[] elements) =>
        $"{{\"type\":\"{type}\",\"vocabularyElementList\":[{string.Join(',', elements)}]}}";

    private static string Element(string id, string? attributes = null, params string[] children) =>
        $"{{\"id\":\"{id}\"" + (attributes is null ? string.Empty : $",\"attributes\":[{attributes}]") +
        (children.Length == 0 ? string.Empty : $",\"children\":[{string.Join(',', children.Select(c => $"\"{c}\""))}]") + "}";

    private static string Header(params string[] vocabularies) => $"\"epcisMasterData\":{{\"vocabularyList\":[{string.Join(',', vocabularies)}]}}";

    private static string Observe(string epc, string bizLocation, int minute) =>
        $"{{\"type\":\"ObjectEvent\",\"eventTime\":\"2030-06-01T10:{minute:D2}:00.000Z\",\"eventTimeZoneOffset\":\"+00:00\",\"action\":\"OBSERVE\"," +
        $"\"epcList\":[\"{epc}\"],\"bizStep\":\"receiving\",\"readPoint\":{{\"id\":\"{bizLocation}\"}},\"bizLocation\":{{\"id\":\"{bizLocation}\"}}}}";

    private async Task<(HttpStatusCode Status, JsonElement Body)> CaptureAsync(string partner, string? header, params string[] events)
    {
        var (status, body, _) = await _server.CaptureAsync(QueryParameterEndpointsTests.Document(header, events), partner);
        if (status == HttpStatusCode.Accepted)
        {
            await _server.WaitSealedAsync(body.GetProperty("captureId").GetString()!);
        }

        return (status, body);
    }

    /// <summary>The EPCs (first of each event) the partner's query finds, in order.</summary>
    private async Task<List<string>> EpcsAsync(string partner, string query)
    {
        using var client = _server.ClientAs(partner);
        using var response = await client.GetAsync("api/epcis/events?" + query);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{query}: {(int)response.StatusCode} {text}");
        using var document = JsonDocument.Parse(text);
        return document.RootElement.GetProperty("epcisBody").GetProperty("queryResults").GetProperty("resultsBody").GetProperty("eventList")
            .EnumerateArray().Select(e => e.GetProperty("epcList")[0].GetString()!).Order(StringComparer.Ordinal).ToList();
    }

    [Fact]
    public async Task Query_WithinSiteHierarchyAndAttributes_FindsEventsByMasterData()
    {
        var header = Header(Vocabulary("urn:epcglobal:epcis:vtype:BusinessLocation",
            Element(Site, "{\"id\":\"urn:epcglobal:cbv:mda#name\",\"attribute\":\"Site A\"}", Hall),
            Element(Hall, "{\"id\":\"urn:epcglobal:cbv:mda#sst\",\"attribute\":\"201\"}", Dock),
            Element(Dock, "{\"id\":\"urn:epcglobal:cbv:mda#sst\",\"attribute\":\"202\"}")));
        var (status, body) = await CaptureAsync(Owner, header,
            Observe("urn:epc:id:sgtin:4012345.000001.1", Dock, 1), Observe("urn:epc:id:sgtin:4012345.000001.2", Hall, 2), Observe("urn:epc:id:sgtin:4012345.000001.3", Elsewhere, 3));
        Assert.True(status == HttpStatusCode.Accepted, $"{(int)status} {body}");

        Assert.Equal(["urn:epc:id:sgtin:4012345.000001.1", "urn:epc:id:sgtin:4012345.000001.2"], await EpcsAsync(Owner, "WD_bizLocation=" + Uri.EscapeDataString(Site)));
        Assert.Equal(["urn:epc:id:sgtin:4012345.000001.1"], await EpcsAsync(Owner, "WD_readPoint=" + Uri.EscapeDataString(Dock)));
        Assert.Equal(["urn:epc:id:sgtin:4012345.000001.2"], await EpcsAsync(Owner, "EQ_ATTR_bizLocation_sst=201"));
        Assert.Equal(["urn:epc:id:sgtin:4012345.000001.1", "urn:epc:id:sgtin:4012345.000001.2"],
            await EpcsAsync(Owner, "EQ_ATTR_bizLocation_" + Uri.EscapeDataString("urn:epcglobal:cbv:mda#sst") + "=" + Uri.EscapeDataString("201|202")));
        Assert.Equal(["urn:epc:id:sgtin:4012345.000001.1", "urn:epc:id:sgtin:4012345.000001.2"], await EpcsAsync(Owner, "HASATTR_readPoint=sst"));
        Assert.Empty(await EpcsAsync(Owner, "HASATTR_bizLocation=" + Uri.EscapeDataString("cbvmda:owning_party")));

        // The same document again changes nothing; a new version of an element replaces its attributes.
        Assert.Equal(HttpStatusCode.Accepted, (await CaptureAsync(Owner, header, Observe("urn:epc:id:sgtin:4012345.000001.1", Dock, 1))).Status);
        var renumbered = Header(Vocabulary("urn:epcglobal:epcis:vtype:BusinessLocation", Element(Hall, "{\"id\":\"urn:epcglobal:cbv:mda#sst\",\"attribute\":\"203\"}", Dock)));
        Assert.Equal(HttpStatusCode.Accepted, (await CaptureAsync(Owner, renumbered, Observe("urn:epc:id:sgtin:4012345.000001.4", Elsewhere, 4))).Status);
        Assert.Empty(await EpcsAsync(Owner, "EQ_ATTR_bizLocation_sst=201"));
        Assert.Equal(["urn:epc:id:sgtin:4012345.000001.2"], await EpcsAsync(Owner, "EQ_ATTR_bizLocation_sst=203"));
    }

    [Fact]
    public async Task Capture_MasterDataForAnotherPartnersGln_Returns403NamingTheElement()
    {
        var header = Header(Vocabulary("urn:epcglobal:epcis:vtype:BusinessLocation", Element(Site, "{\"id\":\"urn:epcglobal:cbv:mda#name\",\"attribute\":\"Mine now\"}")));

        var (status, body) = await CaptureAsync(Rival, header, Observe("urn:epc:id:sgtin:4098765.000001.1", Site, 5));

        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("/epcisHeader/epcisMasterData/vocabularyList/0/vocabularyElementList/0/id", body.GetProperty("field").GetString());
        Assert.Contains(Site, body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty(await EpcsAsync(Rival, "HASATTR_bizLocation=name"));
    }

    [Fact]
    public async Task Query_SharedGs1MasterData_UsedByEveryPartnerWithItsOwnVisibility()
    {
        var header = Header(Vocabulary("urn:epcglobal:epcis:vtype:BusinessLocation", Element(Site, null, Dock)));
        Assert.Equal(HttpStatusCode.Accepted, (await CaptureAsync(Owner, header, Observe("urn:epc:id:sgtin:4012345.000002.1", Dock, 6))).Status);
        Assert.Equal(HttpStatusCode.Accepted, (await CaptureAsync(Rival, null, Observe("urn:epc:id:sgtin:4098765.000002.1", Dock, 7))).Status);

        // The owner's hierarchy serves the rival's query, which still finds only what the rival may see; the owner
        // sees the rival's event too, because it names the owner's location (docs/partners.md, visibility).
        Assert.Equal(["urn:epc:id:sgtin:4098765.000002.1"], await EpcsAsync(Rival, "WD_bizLocation=" + Uri.EscapeDataString(Site)));
        Assert.Equal(["urn:epc:id:sgtin:4012345.000002.1", "urn:epc:id:sgtin:4098765.000002.1"], await EpcsAsync(Owner, "WD_bizLocation=" + Uri.EscapeDataString(Site)));
        Assert.Empty(await EpcsAsync(Rival, "WD_bizLocation=" + Uri.EscapeDataString(Elsewhere)));
    }

    [Fact]
    public async Task Query_PrivateVocabulary_UsedOnlyInItsPartnersQueries()
    {
        var header = Header(Vocabulary("urn:epcglobal:epcis:vtype:BusinessLocation", Element(PrivateZone, "{\"id\":\"urn:epcglobal:cbv:mda#name\",\"attribute\":\"Cold zone\"}")));
        Assert.Equal(HttpStatusCode.Accepted, (await CaptureAsync(Owner, header, Observe("urn:epc:id:sgtin:4012345.000003.1", PrivateZone, 8))).Status);
        Assert.Equal(HttpStatusCode.Accepted, (await CaptureAsync(Rival, null, Observe("urn:epc:id:sgtin:4098765.000003.1", PrivateZone, 9))).Status);

        Assert.Equal(["urn:epc:id:sgtin:4012345.000003.1"], await EpcsAsync(Owner, "EQ_ATTR_bizLocation_name=" + Uri.EscapeDataString("Cold zone")));
        Assert.Empty(await EpcsAsync(Rival, "EQ_ATTR_bizLocation_name=" + Uri.EscapeDataString("Cold zone")));
        Assert.Empty(await EpcsAsync(Rival, "HASATTR_bizLocation=name"));
    }

    [Fact]
    public async Task Capture_MasterDataOnlyDocument_AcceptedAndUsed()
    {
        var header = Header(Vocabulary("urn:epcglobal:epcis:vtype:ReadPoint", Element(Hall, "{\"id\":\"urn:epcglobal:cbv:mda#sst\",\"attribute\":\"301\"}")));

        var (status, body) = await CaptureAsync(Owner, header);
        Assert.True(status == HttpStatusCode.Accepted, $"{(int)status} {body}");
        Assert.Empty(body.GetProperty("eventIds").EnumerateArray());
        Assert.Equal(HttpStatusCode.Accepted, (await CaptureAsync(Owner, null, Observe("urn:epc:id:sgtin:4012345.000004.1", Hall, 10))).Status);

        Assert.Equal(["urn:epc:id:sgtin:4012345.000004.1"], await EpcsAsync(Owner, "EQ_ATTR_readPoint_sst=301"));
    }
}
