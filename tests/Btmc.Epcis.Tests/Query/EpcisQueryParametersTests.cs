using System.Text.Json;
using Btmc.Epcis.Query;
using Btmc.Testing;
using Xunit;

namespace Btmc.Epcis.Tests.Query;

/// <summary>
/// The SimpleEventQuery parameters beyond the core (docs/epcis-query.md): each one matches an event that meets it and
/// not one that does not, and refuses a bad value as a QueryParameterException naming the parameter.
/// </summary>
public sealed class EpcisQueryParametersTests
{
    private const string Base = "\"type\":\"ObjectEvent\",\"eventTime\":\"2030-01-01T10:00:00.000Z\",\"eventTimeZoneOffset\":\"+00:00\",\"action\":\"OBSERVE\",\"epcList\":[\"urn:epc:id:sgtin:0614141.107346.1\"]";

    private static JsonElement Event(string members)
    {
        using var document = JsonDocument.Parse("{" + Base + (members.Length > 0 ? "," + members : string.Empty) + "}");
        return document.RootElement.Clone();
    }

    /// <summary>Parses "a=1&amp;b=2" (values taken as decoded).</summary>
    private static EpcisQueryParseResult Parse(string parameters) =>
        EpcisQuery.Parse(parameters.Split('&').Select(p => p.Split('=', 2)).Select(p => new KeyValuePair<string, string?>(p[0], p.Length > 1 ? p[1] : null)));

    private static EpcisQuery Valid(string parameters)
    {
        var result = Parse(parameters);
        Assert.True(result.IsValid, string.Join("; ", result.Problems.Select(p => $"{p.Pointer}: {p.Detail}")));
        return result.Query!;
    }

    private const string Sensor = "\"sensorElementList\":[{\"sensorMetadata\":{\"time\":\"2030-01-01T09:00:00Z\",\"startTime\":\"2030-01-01T08:00:00Z\",\"endTime\":\"2030-01-01T09:30:00Z\"," +
        "\"deviceID\":\"urn:epc:id:giai:4000001.111\",\"bizRules\":\"https://example.com/gdti/4012345000054987\",\"dataProcessingMethod\":\"https://example.com/gdti/4012345000054000\"}," +
        "\"sensorReport\":[{\"type\":\"gs1:Temperature\",\"value\":26.0,\"uom\":\"CEL\",\"minValue\":12.4,\"maxValue\":30.5,\"meanValue\":22.1,\"sDev\":2.0,\"percRank\":50,\"percValue\":21.0}," +
        "{\"type\":\"gs1:RelativeHumidity\",\"value\":60,\"uom\":\"P1\",\"deviceID\":\"urn:epc:id:giai:4000001.222\"}," +
        "{\"type\":\"gs1:Certification\",\"stringValue\":\"passed\",\"booleanValue\":true,\"hexBinaryValue\":\"0A1B\",\"uriValue\":\"https://example.com/cert/1\"," +
        "\"microorganism\":\"https://www.ncbi.nlm.nih.gov/taxonomy/1126011\",\"chemicalSubstance\":\"https://identifiers.org/inchikey:CZMRCDWAGMRECN-UGDNZRGBSA-N\"}]}]";

    private const string OtherSensor = "\"sensorElementList\":[{\"sensorMetadata\":{\"time\":\"2030-02-01T09:00:00Z\",\"startTime\":\"2030-02-01T08:00:00Z\",\"endTime\":\"2030-02-01T09:30:00Z\"}," +
        "\"sensorReport\":[{\"type\":\"gs1:Speed\",\"value\":5,\"uom\":\"KMH\",\"booleanValue\":false,\"stringValue\":\"failed\",\"hexBinaryValue\":\"FF\",\"uriValue\":\"https://example.com/cert/2\"}]}]";

    public static TheoryData<string, string, string> MatchCases() => new()
    {
        { "EQ_persistentDisposition_set=completeness_verified", "\"persistentDisposition\":{\"set\":[\"completeness_verified\"]}", "\"persistentDisposition\":{\"unset\":[\"completeness_verified\"]}" },
        { "EQ_persistentDisposition_unset=https://ref.gs1.org/cbv/Disp-completeness_inferred", "\"persistentDisposition\":{\"unset\":[\"completeness_inferred\"]}", "\"persistentDisposition\":{\"set\":[\"completeness_inferred\"]}" },
        { "EQ_transformationID=urn:uuid:11111111-2222-3333-4444-555555555555", "\"transformationID\":\"urn:uuid:11111111-2222-3333-4444-555555555555\"", "\"transformationID\":\"urn:uuid:11111111-2222-3333-4444-000000000000\"" },
        { "MATCH_epcClass=urn:epc:idpat:sgtin:4012345.011111.*", "\"quantityList\":[{\"epcClass\":\"urn:epc:class:lgtin:4012345.011111.4444\",\"quantity\":1}]", "\"quantityList\":[{\"epcClass\":\"urn:epc:class:lgtin:4012345.099999.4444\",\"quantity\":1}]" },
        { "MATCH_epcClass=urn:epc:class:lgtin:4012345.011111.4444", "\"childQuantityList\":[{\"epcClass\":\"urn:epc:class:lgtin:4012345.011111.4444\"}]", "\"inputQuantityList\":[{\"epcClass\":\"urn:epc:class:lgtin:4012345.011111.4444\"}]" },
        { "MATCH_inputEPCClass=urn:epc:class:lgtin:4012345.011111.4444", "\"inputQuantityList\":[{\"epcClass\":\"urn:epc:class:lgtin:4012345.011111.4444\"}]", "\"outputQuantityList\":[{\"epcClass\":\"urn:epc:class:lgtin:4012345.011111.4444\"}]" },
        { "MATCH_outputEPCClass=urn:epc:class:lgtin:4012345.011111.4444", "\"outputQuantityList\":[{\"epcClass\":\"urn:epc:class:lgtin:4012345.011111.4444\"}]", "\"quantityList\":[{\"epcClass\":\"urn:epc:class:lgtin:4012345.011111.4444\"}]" },
        { "MATCH_anyEPCClass=urn:epc:idpat:sgtin:4012345.*.*", "\"outputQuantityList\":[{\"epcClass\":\"urn:epc:class:lgtin:4012345.011111.4444\"}]", "\"outputQuantityList\":[{\"epcClass\":\"urn:epc:class:lgtin:4099999.011111.4444\"}]" },
        { "GE_errorDeclarationTime=2030-03-01T00:00:00Z", "\"errorDeclaration\":{\"declarationTime\":\"2030-03-01T00:00:00Z\"}", "\"errorDeclaration\":{\"declarationTime\":\"2030-02-28T23:59:59Z\"}" },
        { "LT_errorDeclarationTime=2030-03-01T00:00:00Z", "\"errorDeclaration\":{\"declarationTime\":\"2030-02-28T23:59:59Z\"}", "\"errorDeclaration\":{\"declarationTime\":\"2030-03-01T00:00:00Z\"}" },
        { "GE_errorDeclaration_Time=2030-03-01T00:00:00Z", "\"errorDeclaration\":{\"declarationTime\":\"2030-03-02T00:00:00Z\"}", string.Empty },
        { "EXISTS_sensorElementList", Sensor, "\"sensorElementList\":[]" },
        { "EQ_type=Temperature", Sensor, OtherSensor },
        { "EQ_type=https://gs1.org/voc/Certification", Sensor, OtherSensor },
        { "EQ_deviceID=urn:epc:id:giai:4000001.222", Sensor, OtherSensor },
        { "EQ_deviceID=urn:epc:id:giai:4000001.111&EQ_type=Temperature", Sensor, OtherSensor },
        { "EQ_dataProcessingMethod=https://example.com/gdti/4012345000054000", Sensor, OtherSensor },
        { "EQ_microorganism=https://www.ncbi.nlm.nih.gov/taxonomy/1126011", Sensor, OtherSensor },
        { "EQ_chemicalSubstance=https://identifiers.org/inchikey:CZMRCDWAGMRECN-UGDNZRGBSA-N", Sensor, OtherSensor },
        { "EQ_bizRules=https://example.com/gdti/4012345000054987", Sensor, OtherSensor },
        { "EQ_stringValue=passed", Sensor, OtherSensor },
        { "EQ_booleanValue=true", Sensor, OtherSensor },
        { "EQ_booleanValue=false", OtherSensor, Sensor },
        { "EQ_hexBinaryValue=0a1b", Sensor, OtherSensor },
        { "EQ_uriValue=https://example.com/cert/1", Sensor, OtherSensor },
        { "GE_time=2030-01-01T09:00:00Z&LT_time=2030-01-01T09:00:01Z", Sensor, OtherSensor },
        { "GE_startTime=2030-01-01T08:00:00Z&LT_startTime=2030-01-01T08:00:01Z", Sensor, OtherSensor },
        { "GE_endTime=2030-01-01T09:30:00Z&LT_endTime=2030-01-01T09:31:00Z", Sensor, OtherSensor },
        { "EQ_value_CEL=26", Sensor, OtherSensor },
        { "GT_value_CEL=25.5", Sensor, OtherSensor },
        { "GE_value_FAH=78.8", Sensor, OtherSensor },
        { "LT_value_KEL=299.16", Sensor, OtherSensor },
        { "LE_value_CEL=26&GE_value_CEL=26", Sensor, OtherSensor },
        { "GE_minValue_CEL=12.4", Sensor, OtherSensor },
        { "LT_maxValue_CEL=31", Sensor, OtherSensor },
        { "GT_meanValue_CEL=22", Sensor, OtherSensor },
        { "LE_sDev_FAH=3.6", Sensor, OtherSensor },
        { "GE_percValue_CEL=21", Sensor, OtherSensor },
        { "GE_percRank=50", Sensor, OtherSensor },
        { "LT_percRank=51", Sensor, OtherSensor },
        { "EQ_quantity_KGM=0.5", "\"quantityList\":[{\"epcClass\":\"urn:epc:class:lgtin:4012345.011111.4444\",\"quantity\":500,\"uom\":\"GRM\"}]", "\"quantityList\":[{\"epcClass\":\"urn:epc:class:lgtin:4012345.011111.4444\",\"quantity\":500}]" },
        { "GT_quantity_KGM=1&LE_quantity_KGM=2", "\"quantityList\":[{\"epcClass\":\"urn:epc:class:lgtin:4012345.011111.4444\",\"quantity\":2,\"uom\":\"KGM\"}]", "\"quantityList\":[{\"epcClass\":\"urn:epc:class:lgtin:4012345.011111.4444\",\"quantity\":1,\"uom\":\"KGM\"}]" },
        { "LT_quantity_LTR=2", "\"quantityList\":[{\"epcClass\":\"urn:epc:class:lgtin:4012345.011111.4444\",\"quantity\":1500,\"uom\":\"MLT\"}]", "\"quantityList\":[{\"epcClass\":\"urn:epc:class:lgtin:4012345.011111.4444\",\"quantity\":1,\"uom\":\"KGM\"}]" },
        { "EQ_example:grade=A|B", "\"example:grade\":\"B\"", "\"example:grade\":\"C\"" },
        { "EQ_example:count=3", "\"example:count\":3.0", "\"example:count\":4" },
        { "GT_example:count=2", "\"example:count\":\"3\"", "\"example:count\":2" },
        { "GE_example:when=2030-01-01T00:00:00Z", "\"example:when\":\"2030-01-01T01:00:00+01:00\"", "\"example:when\":\"2029-12-31T23:00:00Z\"" },
        { "LT_example:when=2030-01-01T01:00:00 01:00", "\"example:when\":\"2029-12-31T23:00:00Z\"", "\"example:when\":\"2030-01-01T00:00:00Z\"" },
        { "LT_example:count=2", "\"example:count\":1", "\"example:count\":2" },
        { "LE_example:count=2", "\"example:count\":2", "\"example:count\":3" },
        { "EXISTS_example:note", "\"example:note\":\"x\"", "\"example:note\":\"\"" },
        { "EQ_INNER_example:inner=deep", "\"example:outer\":{\"example:box\":[{\"example:inner\":\"deep\"}]}", "\"example:inner\":\"deep\"" },
        { "EXISTS_INNER_example:inner", "\"example:outer\":{\"example:inner\":1}", "\"example:outer\":{\"example:other\":1}" },
        { "EQ_INNER_example:lot=L1", "\"example:outer\":[{\"example:lot\":\"L1\"}]", "\"ilmd\":{\"example:box\":{\"example:lot\":\"L1\"}}" },
        { "GE_INNER_example:inner=5", "\"example:outer\":{\"example:inner\":7}", "\"example:outer\":{\"example:inner\":4}" },
        { "EQ_ILMD_example:lot=L1", "\"ilmd\":{\"example:lot\":\"L1\"}", "\"example:lot\":\"L1\"" },
        { "LT_INNER_ILMD_example:size=5", "\"ilmd\":{\"example:dims\":{\"example:size\":4}}", "\"ilmd\":{\"example:size\":4}" },
        { "EXISTS_ILMD_example:lot", "\"ilmd\":{\"example:lot\":\"L1\"}", "\"ilmd\":{}" },
        { "EQ_ERROR_DECLARATION_example:why=typo", "\"errorDeclaration\":{\"declarationTime\":\"2030-03-01T00:00:00Z\",\"example:why\":\"typo\"}", "\"example:why\":\"typo\"" },
        { "EQ_SENSORELEMENT_example:batch=7", "\"sensorElementList\":[{\"example:batch\":\"7\",\"sensorReport\":[]}]", "\"sensorElementList\":[{\"example:batch\":\"8\"}]" },
        { "EQ_SENSORMETADATA_example:someFurtherMetaData=someText", "\"sensorElementList\":[{\"sensorMetadata\":{\"example:someFurtherMetaData\":\"someText\"}}]", "\"sensorElementList\":[{\"sensorMetadata\":{}}]" },
        { "GT_SENSORREPORT_example:cv=100", "\"sensorElementList\":[{\"sensorReport\":[{\"example:cv\":\"123\"}]}]", "\"sensorElementList\":[{\"sensorReport\":[{\"example:cv\":\"99\"}]}]" },
        { "EQ_readPoint_example:zone=cold", "\"readPoint\":{\"id\":\"urn:epc:id:sgln:0614141.00777.0\",\"example:zone\":\"cold\"}", "\"bizLocation\":{\"id\":\"urn:epc:id:sgln:0614141.00777.0\",\"example:zone\":\"cold\"}" },
        { "EQ_INNER_bizLocation_example:zone=cold", "\"bizLocation\":{\"id\":\"urn:epc:id:sgln:0614141.00777.0\",\"example:area\":{\"example:zone\":\"cold\"}}", "\"bizLocation\":{\"id\":\"urn:epc:id:sgln:0614141.00777.0\",\"example:zone\":\"cold\"}" },
        { "EQ_https://ns.example.com/epcis/#grade=A", "\"@context\":[{\"example\":\"https://ns.example.com/epcis/\"}],\"example:grade\":\"A\"", "\"@context\":[{\"example\":\"https://ns.other.com/\"}],\"example:grade\":\"A\"" },
        { "WD_readPoint=urn:epc:id:sgln:0614141.00777.0", "\"readPoint\":{\"id\":\"urn:epc:id:sgln:0614141.00777.0\"}", "\"readPoint\":{\"id\":\"urn:epc:id:sgln:0614141.00888.0\"}" },
        { "WD_bizLocation=urn:epc:id:sgln:0614141.00777.0", "\"bizLocation\":{\"id\":\"https://id.gs1.org/414/0614141007776\"}", "\"readPoint\":{\"id\":\"urn:epc:id:sgln:0614141.00777.0\"}" },
    };

    [Theory]
    [MemberData(nameof(MatchCases))]
    public void Matches_EachParameter_MatchesOnlyTheEventThatMeetsIt(string parameters, string matching, string other)
    {
        var query = Valid(parameters);

        Assert.True(query.Matches(Event(matching)), $"{parameters} should match {matching}");
        Assert.False(query.Matches(Event(other)), $"{parameters} should not match {other}");
        Assert.False(query.Matches(Event(string.Empty)), $"{parameters} should not match an event without the member");
    }

    [Theory]
    [InlineData("EQ_persistentDisposition_set=")]
    [InlineData("EQ_transformationID=not-a-uri")]
    [InlineData("MATCH_epcClass=urn:epc:idpat:sgtin:bad")]
    [InlineData("MATCH_inputEPCClass=no uri")]
    [InlineData("MATCH_outputEPCClass=")]
    [InlineData("MATCH_anyEPCClass=urn:epc:idpat:x")]
    [InlineData("GE_errorDeclarationTime=yesterday")]
    [InlineData("LT_errorDeclarationTime=2030-01-01")]
    [InlineData("EXISTS_sensorElementList=maybe")]
    [InlineData("EQ_type=")]
    [InlineData("EQ_deviceID=device 1")]
    [InlineData("EQ_dataProcessingMethod=x")]
    [InlineData("EQ_microorganism=x")]
    [InlineData("EQ_chemicalSubstance=x")]
    [InlineData("EQ_bizRules=x")]
    [InlineData("EQ_stringValue=")]
    [InlineData("EQ_booleanValue=yes")]
    [InlineData("EQ_hexBinaryValue=XYZ")]
    [InlineData("EQ_uriValue=x")]
    [InlineData("GE_time=noon")]
    [InlineData("LT_time=noon")]
    [InlineData("GE_startTime=noon")]
    [InlineData("LT_startTime=noon")]
    [InlineData("GE_endTime=noon")]
    [InlineData("LT_endTime=noon")]
    [InlineData("GE_value_CEL=warm")]
    [InlineData("EQ_minValue_CEL=1&EQ_minValue_CEL=2")]
    [InlineData("GE_percRank=high")]
    [InlineData("LT_quantity_KGM=heavy")]
    [InlineData("GT_example:count=many")]
    [InlineData("EQ_example:grade=")]
    [InlineData("EXISTS_example:note=perhaps")]
    [InlineData("WD_readPoint=not-a-uri")]
    [InlineData("WD_bizLocation=urn:epc:idpat:sgln:0614141.*.*")]
    [InlineData("WD_disposition=x")]
    [InlineData("EQ_ATTR_bizLocation=x")]
    [InlineData("EQ_ATTR_bizLocation_sst=")]
    [InlineData("HASATTR_=sst")]
    [InlineData("HASATTR_bizLocation=")]
    [InlineData("EQ_colour=red")]
    [InlineData("GE_value_celsius=3")]
    public void Parse_BadValue_QueryParameterProblemNamingTheParameter(string parameters)
    {
        var result = Parse(parameters);

        Assert.False(result.IsValid);
        Assert.Equal(parameters.Split('=')[0], result.Problems[0].Pointer);
    }

    [Fact]
    public void Matches_SensorParametersOnDifferentReports_DoNotCombine()
    {
        // The temperature report has value 26 CEL; the humidity report has deviceID ...222: no one report has both.
        var query = Valid("EQ_type=RelativeHumidity&GE_value_CEL=20");

        Assert.False(query.Matches(Event(Sensor)));
        Assert.True(Valid("EQ_type=RelativeHumidity&GE_value_P1=20").Matches(Event(Sensor)));
    }

    [Fact]
    public void Matches_ValueInAnotherDimensionUnit_DoesNotMatch()
    {
        Assert.False(Valid("GE_value_KGM=0").Matches(Event(Sensor)));
    }

    [Fact]
    public void Matches_Gs1SensorExample_TemperatureRangeAndExtensionInReport()
    {
        var path = SharedTestData.PathOf("epcis-examples", "WithSensorData", "SensorDataExample6.jsonld");
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        var evt = document.RootElement.GetProperty("epcisBody").GetProperty("eventList")[0];

        Assert.True(Valid("EQ_type=Temperature&GE_minValue_CEL=12&LE_maxValue_CEL=14").Matches(evt));
        Assert.True(Valid("GE_meanValue_FAH=55").Matches(evt));
        Assert.False(Valid("EQ_type=Temperature&GT_maxValue_CEL=14").Matches(evt));
        Assert.True(Valid("EQ_SENSORREPORT_example:cv=123").Matches(evt));
        Assert.True(Valid("EQ_INNER_SENSORELEMENT_example:measure1=123.5").Matches(evt));
        Assert.True(Valid("MATCH_epcClass=urn:epc:class:lgtin:4023333.002000.2019-10-07&EQ_quantity_KGM=150").Matches(evt));
    }

    [Fact]
    public void Matches_PersistentDispositionExample_SetAndUnset()
    {
        var path = SharedTestData.PathOf("epcis-examples", "PersistentDisposition-example.jsonld");
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        var events = document.RootElement.GetProperty("epcisBody").GetProperty("eventList").EnumerateArray().ToList();
        var persistent = events.Where(e => e.TryGetProperty("persistentDisposition", out _)).ToList();
        Assert.NotEmpty(persistent);
        var first = persistent[0].GetProperty("persistentDisposition");
        var member = first.TryGetProperty("set", out var set) ? ("EQ_persistentDisposition_set", set[0].GetString()!) : ("EQ_persistentDisposition_unset", first.GetProperty("unset")[0].GetString()!);

        Assert.True(Valid($"{member.Item1}={member.Item2}").Matches(persistent[0]));
        Assert.False(Valid($"{member.Item1}=needs_replacement_never").Matches(persistent[0]));
    }

    [Fact]
    public void Resolve_WithinHierarchy_MatchesDescendantsOnly()
    {
        var view = new MasterDataView([
            new MasterDataElement("urn:epcglobal:epcis:vtype:BusinessLocation", "urn:epc:id:sgln:0614141.00001.0", [], ["urn:epc:id:sgln:0614141.00001.1"]),
            new MasterDataElement("urn:epcglobal:epcis:vtype:BusinessLocation", "urn:epc:id:sgln:0614141.00001.1", [], ["https://id.gs1.org/414/0614141000012/254/2"]),
        ]);
        var query = Valid("WD_bizLocation=urn:epc:id:sgln:0614141.00001.0").Resolve(view);

        Assert.True(query.Matches(Event("\"bizLocation\":{\"id\":\"urn:epc:id:sgln:0614141.00001.2\"}")));
        Assert.True(query.Matches(Event("\"bizLocation\":{\"id\":\"urn:epc:id:sgln:0614141.00001.0\"}")));
        Assert.False(query.Matches(Event("\"bizLocation\":{\"id\":\"urn:epc:id:sgln:0614141.00002.0\"}")));
    }

    [Fact]
    public void Resolve_AttributeAndHasAttribute_MatchElementsWithThem()
    {
        var view = new MasterDataView([
            new MasterDataElement("urn:epcglobal:epcis:vtype:ReadPoint", "urn:epc:id:sgln:0614141.00001.0", [new MasterDataAttribute("urn:epcglobal:cbv:mda#sst", "201")], []),
            new MasterDataElement("urn:epcglobal:epcis:vtype:ReadPoint", "urn:epc:id:sgln:0614141.00002.0", [new MasterDataAttribute("cbvmda:name", "Dock 2")], []),
        ]);
        var dock1 = Event("\"readPoint\":{\"id\":\"urn:epc:id:sgln:0614141.00001.0\"}");
        var dock2 = Event("\"readPoint\":{\"id\":\"urn:epc:id:sgln:0614141.00002.0\"}");

        Assert.True(Valid("EQ_ATTR_readPoint_sst=201|202").Resolve(view).Matches(dock1));
        Assert.False(Valid("EQ_ATTR_readPoint_sst=201").Resolve(view).Matches(dock2));
        Assert.True(Valid("EQ_ATTR_readPoint_urn:epcglobal:cbv:mda#name=Dock 2").Resolve(view).Matches(dock2));
        Assert.True(Valid("HASATTR_readPoint=cbvmda:sst").Resolve(view).Matches(dock1));
        Assert.False(Valid("HASATTR_readPoint=sst").Resolve(view).Matches(dock2));

        // Unresolved (no master data): attributes match nothing, WD_ only its own values.
        Assert.False(Valid("HASATTR_readPoint=sst").Matches(dock1));
        Assert.True(Valid("WD_readPoint=urn:epc:id:sgln:0614141.00001.0").Matches(dock1));
    }

    [Theory]
    [InlineData(20.0, "CEL", "FAH", 68.0)]
    [InlineData(0.0, "CEL", "KEL", 273.15)]
    [InlineData(500.0, "GRM", "KGM", 0.5)]
    [InlineData(1.0, "HUR", "MIN", 60.0)]
    public void TryConvert_SameDimension_Converts(double value, string from, string to, double expected)
    {
        Assert.True(Units.TryConvert(value, from, to, difference: false, out var converted));
        Assert.Equal(expected, converted, 9);
    }

    [Fact]
    public void TryConvert_DifferentDimensionsOrUnknownCode_Refuses()
    {
        Assert.False(Units.TryConvert(1, "CEL", "KGM", difference: false, out _));
        Assert.False(Units.TryConvert(1, "P1", "CEL", difference: false, out _));
        Assert.True(Units.TryConvert(1, "P1", "P1", difference: false, out _));
        Assert.True(Units.TryConvert(1, "CEL", "FAH", difference: true, out var spread));
        Assert.Equal(1.8, spread, 9);
    }
}
