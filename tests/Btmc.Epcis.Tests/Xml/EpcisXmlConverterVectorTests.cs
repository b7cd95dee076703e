using System.Text;
using System.Text.Json;
using Btmc.Epcis.Cbv;
using Btmc.Epcis.Xml;
using Btmc.Testing;
using Xunit;

namespace Btmc.Epcis.Tests.Xml;

/// <summary>
/// Every XML vector of ../shared/testdata, converted to JSON-LD, must give the CBV 2.0 event hash pre-images of the
/// XML itself (and of its .jsonld twin where there is one), and capture documents must pass the structural reader.
/// </summary>
public sealed class EpcisXmlConverterVectorTests
{
    /// <summary>
    /// A vector that is not a valid EPCIS query document: its queryName and resultsBody stand directly under the root,
    /// without EPCISBody/QueryResults (EPCIS 2.0 XSD). The hash reader finds its EventList anywhere; the converter
    /// refuses the structure (<see cref="Convert_QueryDocumentWithoutEpcisBody_IsRefusedWithLocations"/>).
    /// </summary>
    private const string InvalidQueryVector = "epcisXmlQueryDocHavingEventWithIgnoreFields.xml";

    /// <summary>Every .xml file under the shared test data (as a path relative to it), but the invalid one.</summary>
    public static TheoryData<string> XmlFiles() => new(
        Directory.EnumerateFiles(SharedTestData.Root, "*.xml", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f) != InvalidQueryVector)
            .Select(f => Path.GetRelativePath(SharedTestData.Root, f))
            .Order(StringComparer.Ordinal));

    public static TheoryData<string> XmlFilesWithJsonLdTwin() => new(
        Directory.EnumerateFiles(SharedTestData.PathOf("epcis-hash"), "*.xml")
            .Where(f => File.Exists(Path.ChangeExtension(f, ".jsonld")))
            .Select(Path.GetFileName)
            .OfType<string>()
            .Order(StringComparer.Ordinal));

    private static string PathOf(string relative) => SharedTestData.PathOf(relative.Split(Path.DirectorySeparatorChar));

    private static byte[] Converted(string path)
    {
        var conversion = EpcisXmlConverter.Convert(File.ReadAllBytes(path));
        Assert.True(conversion.Succeeded, string.Join(Environment.NewLine, conversion.Problems));
        return conversion.JsonLd.ToArray();
    }

    private static IReadOnlyList<string> JsonPreHashes(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        using var doc = JsonDocument.ParseValue(ref reader);
        return EventHashId.PreHashesFromJsonDocument(doc.RootElement);
    }

    [Fact]
    public void XmlFiles_SharedTestData_AreFound()
    {
        Assert.True(XmlFiles().Count >= 25, $"only {XmlFiles().Count} XML vectors found under {SharedTestData.Root}");
    }

    [Fact]
    public void Convert_QueryDocumentWithoutEpcisBody_IsRefusedWithLocations()
    {
        var conversion = EpcisXmlConverter.Convert(File.ReadAllBytes(SharedTestData.PathOf("epcis-hash", InvalidQueryVector)));

        Assert.False(conversion.Succeeded);
        Assert.True(conversion.JsonLd.IsEmpty);
        Assert.Collection(
            conversion.Problems,
            p =>
            {
                Assert.Equal("/EPCISQueryDocument/queryName", p.Pointer);
                Assert.Contains("Unexpected element 'queryName' in EPCISQueryDocument", p.Detail, StringComparison.Ordinal);
                Assert.Contains("(line 13, column 6)", p.Detail, StringComparison.Ordinal);
            },
            p => Assert.Equal("/EPCISQueryDocument/resultsBody", p.Pointer),
            p =>
            {
                Assert.Equal("/EPCISQueryDocument/EPCISBody", p.Pointer);
                Assert.StartsWith("Missing required 'EPCISBody'", p.Detail, StringComparison.Ordinal);
            });
    }

    [Theory]
    [MemberData(nameof(XmlFiles))]
    public void Convert_EveryHashVectorXml_HashesLikeTheXml(string file)
    {
        var path = PathOf(file);
        var expected = EventHashId.PreHashesFromXml(File.ReadAllText(path));

        var actual = JsonPreHashes(Converted(path));

        Assert.NotEmpty(expected);
        Assert.Equal(expected, actual);
    }

    [Theory]
    [MemberData(nameof(XmlFilesWithJsonLdTwin))]
    public void Convert_XmlWithJsonLdTwin_HashesLikeTheJsonLd(string file)
    {
        var dir = SharedTestData.PathOf("epcis-hash");
        using var twin = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, Path.ChangeExtension(file, ".jsonld"))));
        var expected = EventHashId.PreHashesFromJsonDocument(twin.RootElement);

        var actual = JsonPreHashes(Converted(Path.Combine(dir, file)));

        Assert.Equal(expected, actual);
    }

    [Theory]
    [MemberData(nameof(XmlFiles))]
    public void Convert_EveryXmlVector_IsAcceptedByTheDocumentReader(string file)
    {
        var json = Converted(PathOf(file));
        using var doc = JsonDocument.Parse(json);
        var type = doc.RootElement.GetProperty("type").GetString();

        var result = EpcisDocumentReader.Read(json, DateTimeOffset.UnixEpoch);

        if (type == "EPCISQueryDocument")
        {
            // A query result is not a capture document; the reader says so and nothing else.
            var problem = Assert.Single(result.Problems);
            Assert.Equal("/type", problem.Pointer);
            Assert.Contains("EPCISQueryDocument is a query result", problem.Detail, StringComparison.Ordinal);
        }
        else
        {
            Assert.True(result.IsValid, string.Join(Environment.NewLine, result.Problems));
            Assert.Equal(EventHashId.PreHashesFromXml(File.ReadAllText(PathOf(file))).Count, result.Events.Count);
        }
    }

    [Fact]
    public void Convert_ThousandEventDocument_HashesLikeTheXml()
    {
        var xml = ThousandEvents();

        var conversion = EpcisXmlConverter.Convert(Encoding.UTF8.GetBytes(xml));

        Assert.True(conversion.Succeeded, string.Join(Environment.NewLine, conversion.Problems));
        Assert.Equal(EventHashId.PreHashesFromXml(xml), JsonPreHashes(conversion.JsonLd.Span));
        Assert.Equal(1000, EpcisDocumentReader.Read(conversion.JsonLd, DateTimeOffset.UnixEpoch).Events.Count);
    }

    /// <summary>1000 varied events built from the sensor data vector, the largest XML example.</summary>
    internal static string ThousandEvents()
    {
        var source = File.ReadAllText(SharedTestData.PathOf("epcis-hash", "SensorDataExamples.xml"));
        var start = source.IndexOf("<EventList>", StringComparison.Ordinal) + "<EventList>".Length;
        var end = source.IndexOf("</EventList>", StringComparison.Ordinal);
        var events = source[start..end];
        var count = EventHashId.PreHashesFromXml(source).Count;
        var sb = new StringBuilder(source[..start]);
        var written = 0;
        while (written + count <= 1000)
        {
            sb.Append(events);
            written += count;
        }

        var one = events[..(events.IndexOf("</ObjectEvent>", StringComparison.Ordinal) + "</ObjectEvent>".Length)];
        for (; written < 1000; written++)
        {
            sb.Append(one);
        }

        sb.Append(source[end..]);
        return sb.ToString();
    }
}
