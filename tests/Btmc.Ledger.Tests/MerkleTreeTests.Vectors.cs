using System.Text.Json;
using Xunit;

namespace Btmc.Ledger.Tests;

// Data-driven cases from <shared testdata>/merkle/{inclusion,consistency}/** (transparency-dev style vectors,
// Apache-2.0, see the LICENSE there). The subtreeinclusion / subtreeconsistency folders hold a different
// construct (proofs for a subtree [start, end) of a larger tree) that this API does not model, so they are not used.
public sealed partial class MerkleTreeTests
{
    public static TheoryData<string> InclusionVectorFiles() => new(TestData.JsonFilesUnder("merkle/inclusion"));

    public static TheoryData<string> ConsistencyVectorFiles() => new(TestData.JsonFilesUnder("merkle/consistency"));

    [Theory]
    [MemberData(nameof(InclusionVectorFiles))]
    public void VerifyInclusion_MerkleVectorFile_FailsExactlyWhenWantErr(string file)
    {
        using var json = JsonDocument.Parse(File.ReadAllBytes(TestData.PathOf(file)));
        var v = json.RootElement;
        var wantErr = v.GetProperty("wantErr").GetBoolean();
        var leafIndex = VectorSize(v, "leafIdx");
        var treeSize = VectorSize(v, "treeSize");
        var parsed = TryVectorHash(v.GetProperty("root"), out var root)
            & TryVectorHash(v.GetProperty("leafHash"), out var leafHash)
            & TryVectorProof(v.GetProperty("proof"), out var proof);

        if (!parsed)
        {
            // A missing (empty) hash cannot verify anything.
            Assert.True(wantErr, $"{file}: a hash is missing but the vector expects success.");
            return;
        }

        var error = Record.Exception(() => MerkleTree.VerifyInclusion(leafIndex, treeSize, leafHash, proof, root));

        if (wantErr)
        {
            Assert.IsType<MerkleProofException>(error);
        }
        else
        {
            Assert.Null(error);
            Assert.Equal(root, MerkleTree.RootFromInclusionProof(leafIndex, treeSize, leafHash, proof));
        }
    }

    [Theory]
    [MemberData(nameof(ConsistencyVectorFiles))]
    public void VerifyConsistency_MerkleVectorFile_FailsExactlyWhenWantErr(string file)
    {
        using var json = JsonDocument.Parse(File.ReadAllBytes(TestData.PathOf(file)));
        var v = json.RootElement;
        var wantErr = v.GetProperty("wantErr").GetBoolean();
        var size1 = VectorSize(v, "size1");
        var size2 = VectorSize(v, "size2");
        var parsed = TryVectorHash(v.GetProperty("root1"), out var root1)
            & TryVectorHash(v.GetProperty("root2"), out var root2)
            & TryVectorProof(v.GetProperty("proof"), out var proof);

        if (!parsed)
        {
            Assert.True(wantErr, $"{file}: a hash is missing but the vector expects success.");
            return;
        }

        var error = Record.Exception(() => MerkleTree.VerifyConsistency(size1, size2, proof, root1, root2));

        if (wantErr)
        {
            Assert.IsType<MerkleProofException>(error);
        }
        else
        {
            Assert.Null(error);
        }
    }

    [Fact]
    public void InclusionVectorFiles_SharedTestData_ListsEveryFileIncludingEdgeCases()
    {
        var files = TestData.JsonFilesUnder("merkle/inclusion");

        Assert.Contains("merkle/inclusion/single-entry/matching-root-and-leaf.json", files);
        Assert.Contains("merkle/inclusion/additional/0/empty-root.json", files);
        Assert.True(files.Count >= 90, $"only {files.Count} inclusion vectors found");
    }

    [Fact]
    public void ConsistencyVectorFiles_SharedTestData_ListsEveryFileIncludingEdgeCases()
    {
        var files = TestData.JsonFilesUnder("merkle/consistency");

        Assert.Contains("merkle/consistency/additional/sizes-are-equal-one-and-proof-is-empty.json", files);
        Assert.True(files.Count >= 90, $"only {files.Count} consistency vectors found");
    }

    // Vector sizes and indices are uint64; the API takes long, so values of 2^63 and above arrive as negative
    // numbers (as a Go uint64 -> int64 conversion would), which every verifier must reject.
    private static long VectorSize(JsonElement vector, string name) => unchecked((long)vector.GetProperty(name).GetUInt64());

    // A vector hash: base64 of 32 bytes. The empty string means "missing" and cannot be used (returns false).
    // A few vectors use short non-hash placeholders ("don't care", "WrongRoot"); Hash32 cannot hold those, so they
    // are mapped to SHA-256 of their bytes: distinct placeholders stay distinct and equal ones stay equal, which is
    // all the verifier can observe about them.
    private static bool TryVectorHash(JsonElement element, out Hash32 hash)
    {
        var text = element.GetString() ?? string.Empty;
        var bytes = Convert.FromBase64String(text);
        if (bytes.Length == 0)
        {
            hash = default;
            return false;
        }

        hash = bytes.Length == Hash32.Size ? new Hash32(bytes) : Hash32.Compute(bytes);
        return true;
    }

    private static bool TryVectorProof(JsonElement element, out Hash32[] proof)
    {
        if (element.ValueKind == JsonValueKind.Null)
        {
            proof = [];
            return true;
        }

        proof = new Hash32[element.GetArrayLength()];
        var ok = true;
        var i = 0;
        foreach (var item in element.EnumerateArray())
        {
            ok &= TryVectorHash(item, out proof[i++]);
        }

        return ok;
    }
}
