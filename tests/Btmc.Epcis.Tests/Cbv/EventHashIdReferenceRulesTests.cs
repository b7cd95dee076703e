using System.Text.Json;
using Btmc.Epcis.Cbv;
using Xunit;

namespace Btmc.Epcis.Tests.Cbv;

/// <summary>
/// One test per canonicalisation rule of the CBV 2.0 event hash ID. Every expected pre-hash string and hash ID here
/// was produced by the reference implementation (RalphTro/epcis-event-hash-generator at 5d2f1c3, XML path) from the
/// very documents these tests build, except where a test says the reference has no answer.
/// </summary>
public sealed class EventHashIdReferenceRulesTests
{
    private const string Head =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<epcis:EPCISDocument xmlns:epcis=\"urn:epcglobal:epcis:xsd:2\" "
        + "xmlns:ext=\"https://ns.example.com/epcis/\" xmlns:u=\"urn:example:ext\" schemaVersion=\"2.0\" "
        + "creationDate=\"2023-01-01T00:00:00Z\"><EPCISBody><EventList>";

    private const string Tail = "</EventList></EPCISBody></epcis:EPCISDocument>";

    private const string Epc = "epcListepc=https://id.gs1.org/01/04012345111118/21/1";

    private static string Event(string time, string extra = "") =>
        $"<ObjectEvent><eventTime>{time}</eventTime><eventTimeZoneOffset>+00:00</eventTimeZoneOffset><epcList>"
        + $"<epc>urn:epc:id:sgtin:4012345.011111.1</epc></epcList><action>OBSERVE</action>{extra}</ObjectEvent>";

    private static string Single(string xmlEvent) => Assert.Single(EventHashId.PreHashesFromXml(Head + xmlEvent + Tail));

    private static string ExpectedObject(string utcTime, string suffix = "") =>
        $"eventType=ObjectEventeventTime={utcTime}eventTimeZoneOffset=+00:00{Epc}action=OBSERVE{suffix}";

    [Theory]
    [InlineData("2023-01-18T11:04:03.1415Z", "2023-01-18T11:04:03.142Z")]
    [InlineData("2023-01-18T11:04:03.1414999Z", "2023-01-18T11:04:03.141Z")]
    [InlineData("2023-01-18T11:04:03.0005Z", "2023-01-18T11:04:03.000Z")]
    [InlineData("2023-01-18T11:04:03.0015Z", "2023-01-18T11:04:03.002Z")]
    [InlineData("2023-01-18T11:04:03.0025Z", "2023-01-18T11:04:03.002Z")]
    [InlineData("2023-01-18T11:04:03.00250001Z", "2023-01-18T11:04:03.002Z")]
    [InlineData("2023-01-18T11:04:03.12345678901Z", "2023-01-18T11:04:03.123Z")]
    [InlineData("2023-01-18T11:04:03.0004999Z", "2023-01-18T11:04:03.000Z")]
    [InlineData("2023-01-18T11:04:03.9994999Z", "2023-01-18T11:04:03.999Z")]
    [InlineData("2019-10-21T14:58:56.1234567+02:00", "2019-10-21T12:58:56.123Z")]
    [InlineData("2019-12-31T23:30:00.0006-01:00", "2020-01-01T00:30:00.001Z")]
    [InlineData("2019-10-21T14:58:56Z", "2019-10-21T14:58:56.000Z")]
    [InlineData("2019-10-21T14:58:56.5+05:30", "2019-10-21T09:28:56.500Z")]
    public void PreHashesFromXml_SubMillisecondEventTime_RoundsAsReference(string eventTime, string expected)
    {
        Assert.Equal(ExpectedObject(expected), Single(Event(eventTime)));
    }

    [Theory]
    [InlineData("2023-01-18T11:04:03.1415Z", "ni:///sha-256;ab24f61e4f6e672d957b58d6dfb31cf695b75b2f1bc47afa99e6ed784a886ab1?ver=CBV2.0")]
    [InlineData("2023-01-18T11:04:03.0015Z", "ni:///sha-256;693b0145824bfb44b4b2768aecef1787d7437e1c17876b2c007929e8e7759577?ver=CBV2.0")]
    [InlineData("2019-10-21T14:58:56.1234567+02:00", "ni:///sha-256;6ee023ad57c8ab638ea6f2e8bc830d6915ef46c2e18c1c32e722919bc9b015aa?ver=CBV2.0")]
    public void FromPreHash_SubMillisecondEventTime_EqualsReferenceHashId(string eventTime, string expected)
    {
        Assert.Equal(expected, EventHashId.FromPreHash(Single(Event(eventTime))));
    }

    /// <summary>
    /// Here the reference has no answer (its <c>datetime.replace(microsecond=1000000)</c> raises and the event is
    /// dropped); the second carries, as CBV 2.0 rule 9 ("rounded up") reads.
    /// </summary>
    [Theory]
    [InlineData("2023-12-31T23:59:59.9995Z", "2024-01-01T00:00:00.000Z")]
    [InlineData("2023-01-18T11:04:03.99999999Z", "2023-01-18T11:04:04.000Z")]
    public void NormaliseTimestamp_RoundsToNextSecond_Carries(string value, string expected)
    {
        Assert.Equal(expected, PreHashBuilder.NormaliseTimestamp(value));
    }

    [Theory]
    [InlineData("not a time")]
    [InlineData("2023-13-45T11:04:03.5Z")]
    public void NormaliseTimestamp_Unparseable_KeptAsIs(string value)
    {
        Assert.Equal(value, PreHashBuilder.NormaliseTimestamp(value));
    }

    [Fact]
    public void PreHashesFromXml_TimestampInExtensionField_KeptAsWritten()
    {
        Assert.Equal(
            ExpectedObject("2023-01-18T11:04:03.000Z", "{https://ns.example.com/epcis/}n=2023-01-18T11:04:03.1415+01:00"),
            Single(Event("2023-01-18T11:04:03Z", "<ext:n>2023-01-18T11:04:03.1415+01:00</ext:n>")));
    }

    [Fact]
    public void PreHash_JsonSubMillisecondEventTime_EqualsXml()
    {
        using var json = JsonDocument.Parse(
            """{"type":"ObjectEvent","eventTime":"2019-10-21T14:58:56.1234567+02:00","eventTimeZoneOffset":"+00:00","epcList":["urn:epc:id:sgtin:4012345.011111.1"],"action":"OBSERVE"}""");

        Assert.Equal(Single(Event("2019-10-21T14:58:56.1234567+02:00")), EventHashId.PreHash(json.RootElement, JsonLdContext.Standard));
    }

    [Theory]
    [InlineData("1.50", "1.5")]
    [InlineData("+2", "2")]
    [InlineData("1e3", "1000")]
    [InlineData("1.5E-7", "1.5e-07")]
    [InlineData("0.0001", "0.0001")]
    [InlineData("0.00001", "1e-05")]
    [InlineData("0.0000123", "1.23e-05")]
    [InlineData("1_000", "1000")]
    [InlineData("1_000.5", "1000.5")]
    [InlineData("12345678901234567890", "12345678901234567168")]
    [InlineData("-0.0", "0")]
    [InlineData("1e22", "10000000000000000000000")]
    [InlineData(".5", "0.5")]
    [InlineData("5.", "5")]
    [InlineData("0.1e1", "1")]
    [InlineData("123456789.123456789", "123456789.12345679")]
    [InlineData("NaN", "NaN")]
    [InlineData("-12.340", "-12.34")]
    [InlineData("0012", "12")]
    [InlineData("1e-300", "1e-300")]
    [InlineData("00.000120", "0.00012")]
    public void PreHashesFromXml_NumericExtensionValue_FormattedAsReference(string written, string expected)
    {
        Assert.Equal(
            ExpectedObject("2023-01-18T11:04:03.000Z", "{https://ns.example.com/epcis/}n=" + expected),
            Single(Event("2023-01-18T11:04:03Z", $"<ext:n>{written}</ext:n>")));
    }

    [Theory]
    [InlineData("1__0")]
    [InlineData("_1")]
    [InlineData("1_")]
    [InlineData("1e")]
    [InlineData("0x10")]
    [InlineData("Infinity")]
    public void CanonicalNumber_NotPythonFloatOrNotFinite_KeptAsIs(string value)
    {
        Assert.Equal(value, PreHashBuilder.CanonicalNumber(value));
    }

    private const string Sensor =
        "<sensorElementList><sensorElement><sensorMetadata time=\"2023-01-11T11:05:00.0006Z\" startTime=\"2023-01-11T11:00:00.12351+01:00\" "
        + "endTime=\"2023-01-11T11:10:00.9994Z\" deviceID=\"urn:epc:id:giai:4000001.111\" deviceMetadata=\"https://id.gs1.org/giai/4000001111\" "
        + "rawData=\"https://example.org/raw/1\" dataProcessingMethod=\"https://example.org/dpm\" bizRules=\"https://example.org/rules\" "
        + "ext:zeta=\"z\" ext:alpha=\"a\"/><sensorReport type=\"gs1:Temperature\" exception=\"gs1:ALARM_CONDITION\" "
        + "deviceID=\"urn:epc:id:giai:4000001.111\" deviceMetadata=\"https://id.gs1.org/giai/4000001111\" rawData=\"https://example.org/raw/2\" "
        + "dataProcessingMethod=\"https://example.org/dpm2\" time=\"2023-01-11T11:04:59.9994+01:00\" "
        + "microorganism=\"https://www.ncbi.nlm.nih.gov/taxonomy/1126011\" "
        + "chemicalSubstance=\"https://identifiers.org/inchikey:CZMRCDWAGMRECN-UGDNZRGBSA-N\" value=\"26.50\" component=\"gs1:x\" "
        + "stringValue=\"SomeString\" booleanValue=\"true\" hexBinaryValue=\"F0F0F0\" uriValue=\"https://example.org/uri\" minValue=\"+12.0\" "
        + "maxValue=\"1E2\" meanValue=\"0.00001\" sDev=\"0.000100\" percRank=\"50\" percValue=\"12.100\" uom=\"CEL\" "
        + "coordinateReferenceSystem=\"http://www.opengis.net/def/crs/EPSG/0/4326\" ext:b=\"2\" ext:a=\"1\"/></sensorElement></sensorElementList>";

    private const string Certification =
        "<certificationInfo>https://cert.example.org/B</certificationInfo><certificationInfo>https://cert.example.org/A</certificationInfo>";

    [Fact]
    public void PreHashesFromXml_EverySensorFieldAndCertificationInfo_EqualsReference()
    {
        var xmlEvent = Event("2023-01-18T11:04:03Z", Sensor).Replace("<action>", Certification + "<action>", StringComparison.Ordinal);

        const string expected =
            "eventType=ObjectEventeventTime=2023-01-18T11:04:03.000ZeventTimeZoneOffset=+00:00"
            + "certificationInfo=https://cert.example.org/AcertificationInfo=https://cert.example.org/B"
            + Epc + "action=OBSERVEsensorElementListsensorElementsensorMetadatatime=2023-01-11T11:05:00.001Z"
            + "startTime=2023-01-11T10:00:00.124ZendTime=2023-01-11T11:10:00.999ZdeviceID=https://id.gs1.org/8004/4000001111"
            + "deviceMetadata=https://id.gs1.org/8004/4000001111rawData=https://example.org/raw/1"
            + "dataProcessingMethod=https://example.org/dpmbizRules=https://example.org/rules"
            + "{https://ns.example.com/epcis/}alpha=a{https://ns.example.com/epcis/}zeta=z"
            + "sensorReporttype=https://gs1.org/voc/Temperatureexception=https://gs1.org/voc/ALARM_CONDITION"
            + "deviceID=https://id.gs1.org/8004/4000001111deviceMetadata=https://id.gs1.org/8004/4000001111"
            + "rawData=https://example.org/raw/2dataProcessingMethod=https://example.org/dpm2time=2023-01-11T10:04:59.999Z"
            + "microorganism=https://www.ncbi.nlm.nih.gov/taxonomy/1126011"
            + "chemicalSubstance=https://identifiers.org/inchikey:CZMRCDWAGMRECN-UGDNZRGBSA-Nvalue=26.5"
            + "component=https://gs1.org/voc/xstringValue=SomeStringbooleanValue=truehexBinaryValue=F0F0F0"
            + "uriValue=https://example.org/uriminValue=12maxValue=100meanValue=1e-05sDev=0.0001percRank=50percValue=12.1"
            + "uom=CELcoordinateReferenceSystem=http://www.opengis.net/def/crs/EPSG/0/4326"
            + "{https://ns.example.com/epcis/}a=1{https://ns.example.com/epcis/}b=2";

        var preHash = Single(xmlEvent);

        Assert.Equal(expected, preHash);
        Assert.Equal("ni:///sha-256;ff581cd9b43934d5830d46c6edc2a4a5129252fbdaa004b2bcb81de115d9eefb?ver=CBV2.0", EventHashId.FromPreHash(preHash));
    }

    /// <summary>The reported case: certification info and a sensor report with a coordinate reference system, in JSON-LD.</summary>
    [Fact]
    public void PreHash_JsonCertificationInfoAndCoordinateReferenceSystem_EqualsReferenceXml()
    {
        using var json = JsonDocument.Parse(
            """
            {"type":"ObjectEvent","eventTime":"2023-01-11T12:00:00.0004+01:00","eventTimeZoneOffset":"+01:00",
             "certificationInfo":["https://cert.example.org/B","https://cert.example.org/A"],
             "epcList":["urn:epc:id:sgtin:4012345.011111.1"],"action":"OBSERVE",
             "sensorElementList":[{"sensorReport":[{"type":"Dimensionless","exception":"ALARM_CONDITION",
               "coordinateReferenceSystem":"http://www.opengis.net/def/crs/EPSG/0/27700","value":2.50}]}]}
            """);
        const string xmlEvent =
            "<ObjectEvent><eventTime>2023-01-11T12:00:00+01:00</eventTime><eventTimeZoneOffset>+01:00</eventTimeZoneOffset>"
            + "<certificationInfo>https://cert.example.org/A</certificationInfo><certificationInfo>https://cert.example.org/B</certificationInfo>"
            + "<epcList><epc>urn:epc:id:sgtin:4012345.011111.1</epc></epcList><action>OBSERVE</action><sensorElementList><sensorElement>"
            + "<sensorReport exception=\"gs1:ALARM_CONDITION\" coordinateReferenceSystem=\"http://www.opengis.net/def/crs/EPSG/0/27700\" "
            + "type=\"gs1:Dimensionless\" value=\"2.5\"/></sensorElement></sensorElementList></ObjectEvent>";

        var expected = "eventType=ObjectEventeventTime=2023-01-11T11:00:00.000ZeventTimeZoneOffset=+01:00"
            + "certificationInfo=https://cert.example.org/AcertificationInfo=https://cert.example.org/B" + Epc + "action=OBSERVE"
            + "sensorElementListsensorElementsensorReporttype=https://gs1.org/voc/Dimensionless"
            + "exception=https://gs1.org/voc/ALARM_CONDITIONvalue=2.5coordinateReferenceSystem=http://www.opengis.net/def/crs/EPSG/0/27700";

        Assert.Equal(expected, Single(xmlEvent));
        Assert.Equal(expected, EventHashId.PreHash(json.RootElement, JsonLdContext.Standard));
    }

    [Fact]
    public void PreHashesFromXml_TransactionEventWithParentId_ParentIdBeforeEpcList()
    {
        const string xmlEvent =
            "<TransactionEvent><eventTime>2023-01-18T11:04:03Z</eventTime><eventTimeZoneOffset>+00:00</eventTimeZoneOffset>"
            + "<bizTransactionList><bizTransaction type=\"urn:epcglobal:cbv:btt:po\">urn:epcglobal:cbv:bt:0614141073467:1152</bizTransaction>"
            + "</bizTransactionList><parentID>urn:epc:id:sscc:0614141.1234567890</parentID><epcList>"
            + "<epc>urn:epc:id:sgtin:4012345.011111.1</epc></epcList><action>ADD</action></TransactionEvent>";

        var preHash = Single(xmlEvent);

        Assert.Equal(
            "eventType=TransactionEventeventTime=2023-01-18T11:04:03.000ZeventTimeZoneOffset=+00:00"
            + "parentID=https://id.gs1.org/00/106141412345678908" + Epc + "action=ADD"
            + "bizTransactionListtype=https://ref.gs1.org/cbv/BTT-pobizTransaction=urn:epcglobal:cbv:bt:0614141073467:1152",
            preHash);
        Assert.Equal("ni:///sha-256;e09f5a852ef2c268d7ae67c7d8833c0d06e7d3911eef77b4a6ead95ffdbfccae?ver=CBV2.0", EventHashId.FromPreHash(preHash));
    }

    /// <summary>
    /// Extensions of readPoint sort after its id only where the namespace ends in '/' and readPoint has more than one
    /// child; the others (a namespace without '/', a lone extension in bizLocation) go, with their path, among the
    /// event's sorted unordered fields, whose values are canonicalised but not read as times.
    /// </summary>
    [Fact]
    public void PreHashesFromXml_ExtensionsInStandardFieldsAndEvent_OrderedAsReference()
    {
        var xmlEvent = Event(
            "2023-01-18T11:04:03Z",
            "<readPoint><id>urn:epc:id:sgln:4012345.00001.0</id><ext:z>1.50</ext:z><u:y>2.0</u:y><ext:a>0012</ext:a></readPoint>"
            + "<bizLocation><ext:only>x</ext:only></bizLocation><ext:top><ext:inner2>b</ext:inner2><ext:inner1>+3.0</ext:inner1></ext:top>"
            + "<u:flat>1_000</u:flat>");

        var preHash = Single(xmlEvent);

        Assert.Equal(
            ExpectedObject(
                "2023-01-18T11:04:03.000Z",
                "readPointid=https://id.gs1.org/414/4012345000016{https://ns.example.com/epcis/}a=12{https://ns.example.com/epcis/}z=1.5"
                + "bizLocation{https://ns.example.com/epcis/}only=xreadPoint{urn:example:ext}y=2"
                + "{https://ns.example.com/epcis/}top{https://ns.example.com/epcis/}inner1=3{https://ns.example.com/epcis/}inner2=b"
                + "{urn:example:ext}flat=1000"),
            preHash);
        Assert.Equal("ni:///sha-256;7d474011fafffc3fb0626b729b4ccf211d470c36b40bd7c254ef864a408c795b?ver=CBV2.0", EventHashId.FromPreHash(preHash));
    }
}
