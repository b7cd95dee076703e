using System.Security.Cryptography;
using System.Text;
using Btmc.Ledger;
using Xunit;

namespace Btmc.Governance.Tests;

public sealed class VotePayloadTests
{
    private const string Domain = "btmc/test/governance";
    private const string Holder = "oKIywvGUpTVTyxMQ3bwIIeQUudfr_CkLMjCE19ECD-U";

    private const string Vote =
        "BTMC vote\n" +
        "version: 1\n" +
        "domain: btmc/test/governance\n" +
        "holder: oKIywvGUpTVTyxMQ3bwIIeQUudfr_CkLMjCE19ECD-U\n" +
        "sequence: 3\n" +
        "producers: fab-a,osat-b\n";

    public static TheoryData<string, string, string> NonCanonical => new()
    {
        { "CRLF line ends", Vote.Replace("\n", "\r\n", StringComparison.Ordinal), "payload" },
        { "no final line feed", Vote[..^1], "payload" },
        { "producers out of order", Replace(Vote, "fab-a,osat-b", "osat-b,fab-a"), "payload" },
        { "a producer twice", Replace(Vote, "fab-a,osat-b", "fab-a,fab-a"), "producers" },
        { "a space after a comma", Replace(Vote, "fab-a,osat-b", "fab-a, osat-b"), "producers" },
        { "a trailing comma", Replace(Vote, "fab-a,osat-b", "fab-a,osat-b,"), "producers" },
        { "an upper-case producer", Replace(Vote, "fab-a,osat-b", "Fab-a,osat-b"), "producers" },
        { "no producers at all", Replace(Vote, "producers: fab-a,osat-b", "producers: "), "producers" },
        { "None in capitals", Replace(Vote, "producers: fab-a,osat-b", "producers: None"), "producers" },
        { "a leading zero in the sequence", Replace(Vote, "sequence: 3", "sequence: 03"), "sequence" },
        { "a negative sequence", Replace(Vote, "sequence: 3", "sequence: -3"), "sequence" },
        { "a holder that is no thumbprint", Replace(Vote, Holder, Holder + "A"), "holder" },
        { "a missing sequence line", Replace(Vote, "sequence: 3\n", string.Empty), "sequence" },
        { "a duplicated line", Replace(Vote, "sequence: 3\n", "sequence: 3\nsequence: 3\n"), "payload" },
        { "an extra line", Vote + "weight: 100\n", "payload" },
        { "a wrong title", Replace(Vote, "BTMC vote", "BTMC Vote"), "payload" },
        { "version 2", Replace(Vote, "version: 1", "version: 2"), "version" },
        { "a trailing space", Replace(Vote, "domain: btmc/test/governance\n", "domain: btmc/test/governance \n"), "domain" },
    };

    [Fact]
    public void Parse_PinnedVote_GivesItsFieldsAndTheSameText()
    {
        var vote = VotePayload.Parse(Vote);

        Assert.Equal(Domain, vote.Domain);
        Assert.Equal(Holder, vote.Holder);
        Assert.Equal(3, vote.Sequence);
        Assert.Equal(["fab-a", "osat-b"], vote.Producers);
        Assert.Equal(Vote, vote.Text);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Vote))), vote.Digest.ToHex());
    }

    [Theory]
    [InlineData(0L, new string[0])]
    [InlineData(1L, new[] { "fab-a" })]
    [InlineData(9_007_199_254_740_991L, new[] { "0-first", "dist-c", "fab-a", "osat-b" })]
    public void Parse_TextOfAVote_GivesTheSameVote(long sequence, string[] producers)
    {
        var vote = new VotePayload(Domain, Holder, sequence, producers);

        var parsed = VotePayload.Parse(vote.Text);

        Assert.Equal(vote.Domain, parsed.Domain);
        Assert.Equal(vote.Holder, parsed.Holder);
        Assert.Equal(vote.Sequence, parsed.Sequence);
        Assert.Equal(vote.Producers, parsed.Producers);
        Assert.Equal(vote.Text, parsed.Text);
        Assert.Equal(vote.Digest, parsed.Digest);
    }

    [Fact]
    public void Text_NoProducers_WritesNone()
    {
        var vote = new VotePayload(Domain, Holder, 4, []);

        Assert.EndsWith("\nproducers: none\n", vote.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_None_IsAVoteForNobody()
    {
        var vote = VotePayload.Parse(Replace(Vote, "producers: fab-a,osat-b", "producers: none"));

        Assert.Empty(vote.Producers);
    }

    [Theory]
    [MemberData(nameof(NonCanonical))]
    public void Parse_NonCanonicalText_IsRefusedNamingTheField(string what, string text, string field)
    {
        var refused = Assert.Throws<Refused>(() => VotePayload.Parse(text));

        Assert.True(field == refused.Field, $"{what}: expected field '{field}', got '{refused.Field}': {refused.Message}");
    }

    [Fact]
    public void Parse_UnsortedProducers_ShowsTheSortedCanonicalText()
    {
        var refused = Assert.Throws<Refused>(() => VotePayload.Parse(Replace(Vote, "fab-a,osat-b", "osat-b,fab-a")));

        Assert.EndsWith("sign exactly:\n" + Vote, refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ProposalText_IsRefused()
    {
        var proposal = ProposalPayload.Create(Domain, DateTimeOffset.UtcNow.AddDays(1), new AllocateTokens(Holder, 1)).Text;

        Assert.Equal("payload", Assert.Throws<Refused>(() => VotePayload.Parse(proposal)).Field);
    }

    private static string Replace(string text, string from, string to)
    {
        Assert.Contains(from, text, StringComparison.Ordinal);
        return text.Replace(from, to, StringComparison.Ordinal);
    }
}
