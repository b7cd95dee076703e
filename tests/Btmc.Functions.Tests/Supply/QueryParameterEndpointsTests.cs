using System.Net;
using System.Text;
using System.Text.Json;
using Xunit;

namespace Btmc.Functions.Tests.Supply;

/// <summary>
/// The SimpleEventQuery parameters beyond the core, each over real HTTP (<c>GET /api/epcis/events</c>) against one
/// server holding a small set of sealed events (<see cref="ParameterFixture"/>): every parameter finds the event that
/// meets it and not the others, and a bad value is a 400 QueryParameterException naming the parameter.
/// </summary>
public sealed class QueryParameterEndpointsTests(QueryParameterEndpointsTests.ParameterFixture fixture) : IClassFixture<QueryParameterEndpointsTests.ParameterFixture>
{
    [Theory]
    [InlineData("EQ_persistentDisposition_set=completeness_verified", "warm")]
    [InlineData("EQ_persistentDisposition_unset=completeness_inferred", "cold")]
    [InlineData("EQ_transformationID=urn:uuid:11111111-2222-3333-4444-555555555555", "transformed")]
    [InlineData("MATCH_epcClass=urn:epc:idpat:sgtin:4012345.011111.*", "warm")]
    [InlineData("MATCH_inputEPCClass=urn:epc:class:lgtin:4012345.033333.L3", "transformed")]
    [InlineData("MATCH_outputEPCClass=urn:epc:class:lgtin:4012345.044444.L4", "transformed")]
    [InlineData("MATCH_anyEPCClass=urn:epc:class:lgtin:4012345.022222.L2|urn:epc:class:lgtin:4012345.044444.L4", "cold", "transformed")]
    [InlineData("GE_errorDeclarationTime=2030-05-02T00:00:00Z", "declared")]
    [InlineData("LT_errorDeclarationTime=2030-05-02T00:00:00Z")]
    [InlineData("EXISTS_sensorElementList", "warm", "cold")]
    [InlineData("EQ_type=Temperature", "warm", "cold")]
    [InlineData("EQ_type=example:someSensorProperty", "warm", "cold")]
    [InlineData("EQ_deviceID=urn:epc:id:giai:4000001.111", "warm")]
    [InlineData("EQ_dataProcessingMethod=https://example.com/253/4012345000054987", "warm")]
    [InlineData("EQ_microorganism=https://www.ncbi.nlm.nih.gov/taxonomy/1126011", "warm")]
    [InlineData("EQ_chemicalSubstance=https://identifiers.org/inchikey:CZMRCDWAGMRECN-UGDNZRGBSA-N", "warm")]
    [InlineData("EQ_bizRules=https://example.org/253/4012345000054987", "warm")]
    [InlineData("EQ_stringValue=passed", "warm")]
    [InlineData("EQ_booleanValue=false", "cold")]
    [InlineData("EQ_hexBinaryValue=f0f0f0", "warm")]
    [InlineData("EQ_uriValue=https://example.org/example/someSectorSpecificValue", "warm")]
    [InlineData("GE_time=2030-05-01T09:30:00Z", "cold")]
    [InlineData("LT_time=2030-05-01T09:30:00Z", "warm")]
    [InlineData("GE_startTime=2030-05-01T08:00:00Z&LT_startTime=2030-05-01T08:00:01Z", "warm")]
    [InlineData("GE_endTime=2030-05-01T09:45:00Z&LT_endTime=2030-05-01T10:00:00Z", "cold")]
    [InlineData("GE_value_CEL=20", "warm")]
    [InlineData("LT_value_FAH=40", "cold")]
    [InlineData("EQ_value_KEL=299.15", "warm")]
    [InlineData("GT_minValue_CEL=10", "warm")]
    [InlineData("LE_maxValue_CEL=5", "cold")]
    [InlineData("GE_meanValue_CEL=20&EQ_type=Temperature", "warm")]
    [InlineData("LT_sDev_CEL=1", "cold")]
    [InlineData("GE_percValue_CEL=20", "warm")]
    [InlineData("GE_percRank=90", "cold")]
    [InlineData("LE_percRank=50", "warm")]
    [InlineData("GT_percRank=50&LT_percRank=95", "cold")]
    [InlineData("EQ_type=example:someSensorProperty&GE_value_CEL=20")]
    [InlineData("EQ_quantity_KGM=0.5", "warm")]
    [InlineData("GT_quantity_GRM=1000", "cold")]
    [InlineData("GE_quantity_KGM=0.5&LE_quantity_KGM=2", "warm", "cold")]
    [InlineData("LT_quantity_KGM=1", "warm")]
    [InlineData("EQ_example:grade=A", "warm")]
    [InlineData("EQ_example:grade=A|B", "warm", "cold")]
    [InlineData("GT_example:count=3", "cold")]
    [InlineData("GE_example:count=3", "warm", "cold")]
    [InlineData("LT_example:count=4", "warm")]
    [InlineData("LE_example:count=4", "warm", "cold")]
    [InlineData("GE_example:checked=2030-05-01T12:00:00Z", "cold")]
    [InlineData("EXISTS_example:outer", "warm")]
    [InlineData("EQ_INNER_example:inner=deep", "warm")]
    [InlineData("GT_INNER_example:level=1", "cold")]
    [InlineData("EXISTS_INNER_example:inner", "warm")]
    [InlineData("EQ_ILMD_example:lot=L1", "commissioned")]
    [InlineData("EXISTS_ILMD_example:lot", "commissioned")]
    [InlineData("EQ_INNER_ILMD_example:grade=premium", "commissioned")]
    [InlineData("EQ_ERROR_DECLARATION_example:why=typo", "declared")]
    [InlineData("EQ_SENSORMETADATA_example:site=north", "warm")]
    [InlineData("GE_SENSORREPORT_example:cv=100", "warm")]
    [InlineData("EXISTS_SENSORELEMENT_example:furtherSensorData", "cold")]
    [InlineData("EQ_readPoint_example:zone=freezer", "cold")]
    [InlineData("EQ_https://ns.example.com/epcis/#grade=B", "cold")]
    [InlineData("WD_readPoint=urn:epc:id:sgln:4012345.00010.0", "warm")]
    [InlineData("WD_bizLocation=urn:epc:id:sgln:4012345.00010.0", "cold")]
    public async Task Query_Parameter_FindsOnlyTheEventsThatMeetIt(string query, params string[] names)
    {
        var url = "api/epcis/events?" + string.Join('&', query.Split('&').Select(p => p.Split('=', 2)).Select(p =>
            Uri.EscapeDataString(p[0]) + (p.Length > 1 ? "=" + Uri.EscapeDataString(p[1]) : string.Empty))) + "&perPage=100";
        using var response = await fixture.Server.Http.GetAsync(url);
        var text = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{query}: {(int)response.StatusCode} {text}");
        using var document = JsonDocument.Parse(text);
        var found = document.RootElement.GetProperty("epcisBody").GetProperty("queryResults").GetProperty("resultsBody").GetProperty("eventList")
            .EnumerateArray().Select(e => fixture.NameOf(e)).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(names.Order(StringComparer.Ordinal), found);
    }

    [Theory]
    [InlineData("EQ_persistentDisposition_set=", "EQ_persistentDisposition_set")]
    [InlineData("EQ_transformationID=not-a-uri", "EQ_transformationID")]
    [InlineData("MATCH_epcClass=urn:epc:idpat:sgtin:bad", "MATCH_epcClass")]
    [InlineData("GE_errorDeclarationTime=yesterday", "GE_errorDeclarationTime")]
    [InlineData("EXISTS_sensorElementList=maybe", "EXISTS_sensorElementList")]
    [InlineData("EQ_booleanValue=yes", "EQ_booleanValue")]
    [InlineData("EQ_hexBinaryValue=XYZ", "EQ_hexBinaryValue")]
    [InlineData("EQ_deviceID=not%20a%20uri", "EQ_deviceID")]
    [InlineData("GE_startTime=noon", "GE_startTime")]
    [InlineData("GE_value_CEL=warm", "GE_value_CEL")]
    [InlineData("LT_percRank=high", "LT_percRank")]
    [InlineData("GT_quantity_KGM=heavy", "GT_quantity_KGM")]
    [InlineData("GT_example%3Acount=many", "GT_example:count")]
    [InlineData("EQ_ATTR_bizLocation=x", "EQ_ATTR_bizLocation")]
    [InlineData("HASATTR_bizLocation=", "HASATTR_bizLocation")]
    [InlineData("WD_readPoint=not-a-uri", "WD_readPoint")]
    [InlineData("EQ_colour=red", "EQ_colour")]
    public async Task Query_BadValue_Returns400QueryParameterExceptionNamingTheParameter(string query, string parameter)
    {
        using var response = await fixture.Server.Http.GetAsync("api/epcis/events?" + query);
        var text = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{query}: {(int)response.StatusCode} {text}");
        using var problem = JsonDocument.Parse(text);
        Assert.Equal("epcisException:QueryParameterException", problem.RootElement.GetProperty("type").GetString());
        Assert.Equal(parameter, problem.RootElement.GetProperty("errors")[0].GetProperty("pointer").GetString());
    }

    /// <summary>A document with the example namespace, the given header members (or none) and events.</summary>
    internal static byte[] Document(string? header, params string[] events) => Encoding.UTF8.GetBytes(
        "{\"@context\":[\"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld\",{\"example\":\"https://ns.example.com/epcis/\"}]," +
        "\"type\":\"EPCISDocument\",\"schemaVersion\":\"2.0\",\"creationDate\":\"2026-11-22T10:00:00Z\"," +
        (header is null ? string.Empty : "\"epcisHeader\":{" + header + "},") +
        "\"epcisBody\":{\"eventList\":[" + string.Join(",", events) + "]}}");

    /// <summary>
    /// One server with six sealed events, each named by its first EPC's serial: "warm" and "cold" (sensor data,
    /// quantities with units, extension fields), "commissioned" (ILMD), "transformed" (transformation ID, input and
    /// output classes), "declared" (an error declaration) and "plain" (nothing of these); and master data placing
    /// "warm"'s read point and "cold"'s business location under one site.
    /// </summary>
    public sealed class ParameterFixture : IAsyncLifetime
    {
        private const string Sgtin = "urn:epc:id:sgtin:4012345.011111.";

        private LocalServer? _server;

        internal LocalServer Server => _server ?? throw new InvalidOperationException("The fixture is not initialised.");

        /// <summary>The event's name: the serial of its first EPC (of epcList or outputEPCList).</summary>
        public string NameOf(JsonElement evt) =>
            (evt.TryGetProperty("epcList", out var epcs) ? epcs : evt.GetProperty("outputEPCList"))[0].GetString()![Sgtin.Length..];

        public async Task InitializeAsync()
        {
            _server = await LocalServer.StartInProcessAsync();
            string Head(string type, string serial, string time, string action = "OBSERVE") =>
                $"\"type\":\"{type}\",\"eventTime\":\"{time}\",\"eventTimeZoneOffset\":\"+00:00\"" + (type == "ObjectEvent" ? $",\"action\":\"{action}\",\"epcList\":[\"{Sgtin}{serial}\"]" : string.Empty);
            var warm = "{" + Head("ObjectEvent", "warm", "2030-05-01T10:00:00.000Z") + ",\"bizStep\":\"inspecting\"," +
                "\"readPoint\":{\"id\":\"urn:epc:id:sgln:4012345.00010.1\"},\"persistentDisposition\":{\"set\":[\"completeness_verified\"]}," +
                "\"quantityList\":[{\"epcClass\":\"urn:epc:class:lgtin:4012345.011111.L1\",\"quantity\":500,\"uom\":\"GRM\"}]," +
                "\"sensorElementList\":[{\"sensorMetadata\":{\"time\":\"2030-05-01T09:00:00.000Z\",\"startTime\":\"2030-05-01T08:00:00.000Z\",\"endTime\":\"2030-05-01T09:00:00.000Z\"," +
                "\"deviceID\":\"urn:epc:id:giai:4000001.111\",\"bizRules\":\"https://example.org/253/4012345000054987\",\"dataProcessingMethod\":\"https://example.com/253/4012345000054987\",\"example:site\":\"north\"}," +
                "\"sensorReport\":[{\"type\":\"Temperature\",\"value\":26.0,\"uom\":\"CEL\",\"minValue\":12.4,\"maxValue\":30.5,\"meanValue\":22.1,\"sDev\":2.0,\"percRank\":50,\"percValue\":21.0,\"example:cv\":\"123\"}," +
                "{\"type\":\"example:someSensorProperty\",\"stringValue\":\"passed\",\"booleanValue\":true,\"hexBinaryValue\":\"F0F0F0\",\"uriValue\":\"https://example.org/example/someSectorSpecificValue\"," +
                "\"microorganism\":\"https://www.ncbi.nlm.nih.gov/taxonomy/1126011\",\"chemicalSubstance\":\"https://identifiers.org/inchikey:CZMRCDWAGMRECN-UGDNZRGBSA-N\"}]}]," +
                "\"example:grade\":\"A\",\"example:count\":3,\"example:outer\":{\"example:inner\":\"deep\"}}";
            var cold = "{" + Head("ObjectEvent", "cold", "2030-05-01T11:00:00.000Z") + ",\"bizStep\":\"inspecting\"," +
                "\"readPoint\":{\"id\":\"urn:epc:id:sgln:4012345.00020.0\",\"example:zone\":\"freezer\"},\"bizLocation\":{\"id\":\"urn:epc:id:sgln:4012345.00010.2\"}," +
                "\"persistentDisposition\":{\"unset\":[\"completeness_inferred\"]}," +
                "\"quantityList\":[{\"epcClass\":\"urn:epc:class:lgtin:4012345.022222.L2\",\"quantity\":2,\"uom\":\"KGM\"}]," +
                "\"sensorElementList\":[{\"sensorMetadata\":{\"time\":\"2030-05-01T10:00:00.000Z\",\"startTime\":\"2030-05-01T09:00:00.000Z\",\"endTime\":\"2030-05-01T09:50:00.000Z\",\"deviceID\":\"urn:epc:id:giai:4000001.222\"}," +
                "\"sensorReport\":[{\"type\":\"Temperature\",\"value\":2.0,\"uom\":\"CEL\",\"minValue\":1.0,\"maxValue\":4.5,\"meanValue\":2.5,\"sDev\":0.5,\"percRank\":90,\"percValue\":4.0}," +
                "{\"type\":\"example:someSensorProperty\",\"booleanValue\":false}],\"example:furtherSensorData\":[{\"example:measure1\":\"1\"}]}]," +
                "\"example:grade\":\"B\",\"example:count\":4,\"example:checked\":\"2030-05-01T13:00:00Z\",\"example:deep\":{\"example:level\":2}}";
            var commissioned = "{" + Head("ObjectEvent", "commissioned", "2030-05-01T12:00:00.000Z", "ADD") + ",\"bizStep\":\"commissioning\"," +
                "\"ilmd\":{\"example:lot\":\"L1\",\"example:quality\":{\"example:grade\":\"premium\"}}}";
            var transformed = "{" + Head("TransformationEvent", "transformed", "2030-05-01T13:00:00.000Z") + ",\"transformationID\":\"urn:uuid:11111111-2222-3333-4444-555555555555\"," +
                "\"inputQuantityList\":[{\"epcClass\":\"urn:epc:class:lgtin:4012345.033333.L3\",\"quantity\":1}]," +
                $"\"outputEPCList\":[\"{Sgtin}transformed\"],\"outputQuantityList\":[{{\"epcClass\":\"urn:epc:class:lgtin:4012345.044444.L4\",\"quantity\":1}}]}}";
            var declared = "{" + Head("ObjectEvent", "declared", "2030-05-01T14:00:00.000Z") + ",\"bizStep\":\"shipping\"," +
                "\"errorDeclaration\":{\"declarationTime\":\"2030-05-02T10:00:00.000Z\",\"reason\":\"incorrect_data\",\"example:why\":\"typo\"}}";
            var plain = "{" + Head("ObjectEvent", "plain", "2030-05-01T15:00:00.000Z") + ",\"bizStep\":\"storing\",\"readPoint\":{\"id\":\"urn:epc:id:sgln:4012345.00030.0\"}}";
            const string Header = "\"epcisMasterData\":{\"vocabularyList\":[{\"type\":\"urn:epcglobal:epcis:vtype:BusinessLocation\",\"vocabularyElementList\":[" +
                "{\"id\":\"urn:epc:id:sgln:4012345.00010.0\",\"children\":[\"urn:epc:id:sgln:4012345.00010.1\",\"urn:epc:id:sgln:4012345.00010.2\"]}]}]}";

            var (status, body, _) = await Server.CaptureAsync(Document(Header, warm, cold, commissioned, transformed, declared, plain));
            Assert.True(status == HttpStatusCode.Accepted, $"{(int)status} {body}");
            var sealedStatus = await Server.WaitSealedAsync(body.GetProperty("captureId").GetString()!);
            Assert.Empty(sealedStatus.GetProperty("errors").EnumerateArray());
        }

        public async Task DisposeAsync() => await Server.DisposeAsync();
    }
}
