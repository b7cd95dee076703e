using System.Text.Json;
using Btmc.Epcis.Cbv;
using Btmc.Testing;
using Xunit;

namespace Btmc.Epcis.Tests.Cbv;

/// <summary>The public GS1 event hash vectors under ../shared/testdata/epcis-hash, read at test time.</summary>
public sealed class EventHashIdVectorTests
{
    private static string Dir => SharedTestData.PathOf("epcis-hash");

    /// <summary>
    /// ReferenceEventHashAlgorithm.json shares its expected files with the .jsonld of the same name but holds that
    /// event twice; it is checked by <see cref="PreHash_DuplicatedReferenceEvent_BothEqualExpected"/>.
    /// </summary>
    private static readonly string[] InputExtensions = [".jsonld", ".xml"];

    /// <summary>
    /// Expected pre-hash lines that disagree with their own input and with their own .hashes line (the SHA-256 of
    /// the stale line is not the expected hash ID; the hash ID of the computed pre-hash is, and is still tested).
    /// </summary>
    private static readonly HashSet<(string File, int Index)> StalePreHashLines =
    [
        ("epcisDocWithCustomSchemaInContext.jsonld", 1),
        ("epcisDocWithDefaultSchemaInContext.jsonld", 1),
    ];

    /// <summary>Inputs without expected files: every event in them is a different representation of one event.</summary>
    public static TheoryData<string> EquivalenceFiles() => new(
        Directory.EnumerateFiles(Dir, "*.xml")
            .Where(f => !File.Exists(Path.ChangeExtension(f, ".hashes")) && !File.Exists(Path.ChangeExtension(f, ".prehashes")))
            .Select(Path.GetFileName)
            .OfType<string>()
            .Order(StringComparer.Ordinal));

    public static TheoryData<string, int> PreHashCases() => Cases(".prehashes");

    public static TheoryData<string, int> HashCases() => Cases(".hashes");

    private static TheoryData<string, int> Cases(string expectedExtension)
    {
        var data = new TheoryData<string, int>();
        foreach (var input in Directory.EnumerateFiles(Dir).Where(f => InputExtensions.Contains(Path.GetExtension(f))).Order(StringComparer.Ordinal))
        {
            var expected = Path.ChangeExtension(input, expectedExtension);
            if (!File.Exists(expected))
            {
                continue;
            }

            var count = Expected(expected).Count;
            for (var i = 0; i < count; i++)
            {
                if (expectedExtension != ".prehashes" || !StalePreHashLines.Contains((Path.GetFileName(input), i)))
                {
                    data.Add(Path.GetFileName(input), i);
                }
            }
        }

        return data;
    }

    public static TheoryData<string, int> StaleCases()
    {
        var data = new TheoryData<string, int>();
        foreach (var (file, index) in StalePreHashLines)
        {
            data.Add(file, index);
        }

        return data;
    }

    /// <summary>Keeps the exclusion honest: an excluded line must really disagree with its own expected hash ID.</summary>
    [Theory]
    [MemberData(nameof(StaleCases))]
    public void StalePreHashLine_DoesNotHashToItsOwnExpectedId(string file, int index)
    {
        var preHash = Expected(Path.Combine(Dir, Path.ChangeExtension(file, ".prehashes")))[index];
        var hashId = Expected(Path.Combine(Dir, Path.ChangeExtension(file, ".hashes")))[index];

        Assert.NotEqual(hashId, EventHashId.FromPreHash(preHash));
        Assert.Equal(hashId, EventHashId.FromPreHash(PreHashesOf(file)[index]));
    }

    private static List<string> Expected(string path) =>
        File.ReadAllLines(path).Where(l => l.Length > 0).ToList();

    private static IReadOnlyList<string> PreHashesOf(string file)
    {
        var path = Path.Combine(Dir, file);
        var text = File.ReadAllText(path);
        if (file.EndsWith(".xml", StringComparison.Ordinal))
        {
            return EventHashId.PreHashesFromXml(text);
        }

        using var doc = JsonDocument.Parse(text);
        return EventHashId.PreHashesFromJsonDocument(doc.RootElement);
    }

    [Theory]
    [MemberData(nameof(PreHashCases))]
    public void PreHash_VectorEvent_EqualsExpected(string file, int index)
    {
        var expected = Expected(Path.Combine(Dir, Path.ChangeExtension(file, ".prehashes")));

        var actual = PreHashesOf(file);

        Assert.Equal(expected.Count, actual.Count);
        Assert.Equal(expected[index], actual[index]);
    }

    [Theory]
    [MemberData(nameof(HashCases))]
    public void HashId_VectorEvent_EqualsExpected(string file, int index)
    {
        var expected = Expected(Path.Combine(Dir, Path.ChangeExtension(file, ".hashes")));

        var actual = PreHashesOf(file).Select(EventHashId.FromPreHash).ToList();

        Assert.Equal(expected.Count, actual.Count);
        Assert.Equal(expected[index], actual[index]);
    }

    [Fact]
    public void PreHash_DuplicatedReferenceEvent_BothEqualExpected()
    {
        var expectedPreHash = Expected(Path.Combine(Dir, "ReferenceEventHashAlgorithm.prehashes")).Single();
        var expectedHash = Expected(Path.Combine(Dir, "ReferenceEventHashAlgorithm.hashes")).Single();

        var actual = PreHashesOf("ReferenceEventHashAlgorithm.json");

        Assert.Equal([expectedPreHash, expectedPreHash], actual);
        Assert.All(actual, p => Assert.Equal(expectedHash, EventHashId.FromPreHash(p)));
    }

    [Theory]
    [MemberData(nameof(EquivalenceFiles))]
    public void HashId_DifferentRepresentationsOfOneEvent_AreEqual(string file)
    {
        var hashes = PreHashesOf(file).Select(EventHashId.FromPreHash).ToList();

        Assert.True(hashes.Count >= 2, $"{file} holds {hashes.Count} events");
        Assert.Single(hashes.Distinct());
    }

    [Fact]
    public void PreHashes_JsonLdAndXmlOfSameDocument_AreEqual()
    {
        var pairs = Directory.EnumerateFiles(Dir, "*.jsonld")
            .Select(Path.GetFileName).OfType<string>()
            .Where(f => File.Exists(Path.Combine(Dir, Path.ChangeExtension(f, ".xml"))))
            .ToList();

        Assert.NotEmpty(pairs);
        foreach (var jsonld in pairs)
        {
            Assert.Equal(PreHashesOf(Path.ChangeExtension(jsonld, ".xml")), PreHashesOf(jsonld));
        }
    }
}
