using System.Security.Cryptography;
using System.Text;
using Btmc.Ledger;
using Xunit;

namespace Btmc.Governance.Tests;

public sealed class ProposalPayloadTests
{
    private const string Domain = "btmc/test/governance";
    private const string Account = "oKIywvGUpTVTyxMQ3bwIIeQUudfr_CkLMjCE19ECD-U";

    // The P-256 base point G (SEC 2, section 2.4.2) as a JWK: a valid public key nobody needs to generate.
    private const string GeneratorJwk = "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"axfR8uEsQkf4vOblY6RA8ncDfYEt6zOg9KE5RdiYwpY\",\"y\":\"T-NC4v4af5uO5-tKfA-eFivOM1drMV7Oy7ZAaDe_UfU\"}";

    private static readonly DateTimeOffset Expires = new(2026, 12, 31, 23, 59, 59, TimeSpan.Zero);

    /// <summary>
    /// A canonical allocation. Its id was computed outside .NET, with
    /// <c>printf 'BTMC committee proposal\nversion: 1\n…\namount: 1000\n' | sha256sum</c> and again with Python's
    /// <c>hashlib.sha256(text.encode()).hexdigest()</c>; both gave the digest pinned in <see cref="AllocationId"/>.
    /// </summary>
    private const string Allocation =
        "BTMC committee proposal\n" +
        "version: 1\n" +
        "domain: btmc/test/governance\n" +
        "nonce: 00112233445566778899aabbccddeeff\n" +
        "expires: 2026-12-31T23:59:59Z\n" +
        "action: allocate-tokens\n" +
        "account: oKIywvGUpTVTyxMQ3bwIIeQUudfr_CkLMjCE19ECD-U\n" +
        "amount: 1000\n";

    private const string AllocationId = "5e2f3407e75dce9a495b635e06b3fc5afc579d6ce107d0ca0ccfdbca3da2241b";

    /// <summary>A canonical add-producer proposal; its id computed with Python's hashlib as above.</summary>
    private const string Registration =
        "BTMC committee proposal\n" +
        "version: 1\n" +
        "domain: btmc/test/governance\n" +
        "nonce: 0123456789abcdef0123456789abcdef\n" +
        "expires: 2026-06-30T12:00:00Z\n" +
        "action: add-producer\n" +
        "producer: fab-a\n" +
        "key: fab-a.pem\n" +
        "public-key: " + GeneratorJwk + "\n";

    private const string RegistrationId = "b862d5a5315ce0f35448b16ef95bef79935220a727abafc428125806811d1c85";

    public static TheoryData<string> ActionNames =>
        [AddProducer.ActionName, RemoveProducer.ActionName, ReplaceMember.ActionName, AllocateTokens.ActionName, SetParameter.ActionName];

    /// <summary>Non-canonical or malformed texts, and the field the refusal must name.</summary>
    public static TheoryData<string, string, string> NonCanonical => new()
    {
        { "CRLF line ends", Allocation.Replace("\n", "\r\n", StringComparison.Ordinal), "payload" },
        { "no final line feed", Allocation[..^1], "payload" },
        { "a blank line at the end", Allocation + "\n", "payload" },
        { "two spaces after a colon", Replace(Allocation, "amount: 1000", "amount:  1000"), "amount" },
        { "a space before a colon", Replace(Allocation, "account: ", "account : "), "account" },
        { "a trailing space", Replace(Allocation, "domain: btmc/test/governance\n", "domain: btmc/test/governance \n"), "domain" },
        { "a leading zero in the amount", Replace(Allocation, "amount: 1000", "amount: 01000"), "amount" },
        { "a plus sign in the amount", Replace(Allocation, "amount: 1000", "amount: +1000"), "amount" },
        { "a JWK with an extra member", Replace(Registration, "\"}\n", "\",\"use\":\"sig\"}\n"), "public-key" },
        { "a JWK with a kid", Replace(Registration, "\"}\n", "\",\"kid\":\"k1\"}\n"), "public-key" },
        { "a JWK in another member order", Replace(Registration, "{\"kty\":\"EC\",\"crv\":\"P-256\",", "{\"crv\":\"P-256\",\"kty\":\"EC\","), "public-key" },
        { "a JWK with spaces", Replace(Registration, "{\"kty\":\"EC\",", "{\"kty\": \"EC\", "), "public-key" },
        { "an upper-case hex nonce", Replace(Allocation, "aabbccddeeff", "AABBCCDDEEFF"), "nonce" },
        { "a short nonce", Replace(Allocation, "nonce: 00112233445566778899aabbccddeeff", "nonce: 00112233445566778899aabbccddee"), "nonce" },
        { "an unknown action", Replace(Allocation, "action: allocate-tokens", "action: mint-tokens"), "action" },
        { "a missing expires line", Replace(Allocation, "expires: 2026-12-31T23:59:59Z\n", string.Empty), "expires" },
        { "a missing amount line", Replace(Allocation, "amount: 1000\n", string.Empty), "amount" },
        { "a duplicated line", Replace(Allocation, "amount: 1000\n", "amount: 1000\namount: 1000\n"), "payload" },
        { "an extra line", Allocation + "comment: hello\n", "payload" },
        { "lines out of order", Replace(Allocation, "account: " + Account + "\namount: 1000\n", "amount: 1000\naccount: " + Account + "\n"), "payload" },
        { "a wrong title", Replace(Allocation, "BTMC committee proposal", "BTMC Committee Proposal"), "payload" },
        { "version 2", Replace(Allocation, "version: 1", "version: 2"), "version" },
        { "an expiry with an offset", Replace(Allocation, "2026-12-31T23:59:59Z", "2026-12-31T23:59:59+00:00"), "expires" },
        { "an expiry with fractional seconds", Replace(Allocation, "2026-12-31T23:59:59Z", "2026-12-31T23:59:59.5Z"), "expires" },
        { "an account that is no thumbprint", Replace(Allocation, Account, Account[..^1]), "account" },
        { "an upper-case producer id", Replace(Registration, "producer: fab-a", "producer: Fab-A"), "producer" },
    };

    [Theory]
    [MemberData(nameof(ActionNames))]
    public void Parse_TextOfCreatedProposal_GivesTheSameProposal(string actionName)
    {
        using var key = ECDsa.Create(ECCurve.CreateFromValue("1.3.132.0.10"));
        var action = Action(actionName, EcPublicJwk.FromECDsa(key));
        var created = ProposalPayload.Create(Domain, Expires, action);

        var parsed = ProposalPayload.Parse(created.Text);

        Assert.Equal(created, parsed);
        Assert.Equal(created.Text, parsed.Text);
        Assert.Equal(created.Id, parsed.Id);
        Assert.Contains($"\naction: {actionName}\n", created.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_TwoProposalsOfTheSameAction_HaveRandomLowerCaseNoncesAndDifferentIds()
    {
        var action = new AllocateTokens(Account, 5);

        var first = ProposalPayload.Create(Domain, Expires, action);
        var second = ProposalPayload.Create(Domain, Expires, action);

        Assert.Matches("^[0-9a-f]{32}$", first.Nonce);
        Assert.NotEqual(first.Nonce, second.Nonce);
        Assert.NotEqual(first.Id, second.Id);
    }

    [Fact]
    public void Create_ExpiryWithMillisecondsAndAnOffset_IsWholeSecondsInUtc()
    {
        var local = new DateTimeOffset(2027, 1, 1, 1, 59, 59, TimeSpan.FromHours(2)).AddMilliseconds(999);

        var payload = ProposalPayload.Create(Domain, local, new AllocateTokens(Account, 5));

        Assert.Equal(Expires, payload.Expires);
        Assert.Contains("\nexpires: 2026-12-31T23:59:59Z\n", payload.Text, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(ActionNames))]
    public void Id_IsLowerCaseHexSha256OfTheUtf8Text(string actionName)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var payload = ProposalPayload.Create(Domain, Expires, Action(actionName, EcPublicJwk.FromECDsa(key)));

        var expected = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(payload.Text)));

        Assert.Equal(expected, payload.Id);
        Assert.Equal(expected, payload.Digest.ToHex());
    }

    [Fact]
    public void Parse_PinnedAllocation_HasThePinnedId()
    {
        var payload = ProposalPayload.Parse(Allocation);

        Assert.Equal(AllocationId, payload.Id);
        Assert.Equal(new ProposalPayload(Domain, "00112233445566778899aabbccddeeff", Expires, new AllocateTokens(Account, 1000)), payload);
        Assert.Equal(Allocation, new ProposalPayload(Domain, "00112233445566778899aabbccddeeff", Expires, new AllocateTokens(Account, 1000)).Text);
    }

    [Fact]
    public void Parse_PinnedRegistration_HasThePinnedIdAndKey()
    {
        var payload = ProposalPayload.Parse(Registration);

        Assert.Equal(RegistrationId, payload.Id);
        var add = Assert.IsType<AddProducer>(payload.Action);
        Assert.Equal("fab-a", add.Producer);
        Assert.Equal("fab-a.pem", add.KeyReference);
        Assert.Equal(EcPublicJwk.CurveP256, add.PublicKey.Crv);
        Assert.Null(add.PublicKey.Kid);
        Assert.Equal(Registration, payload.Text);
    }

    [Fact]
    public void Text_ActionWithAKeyThatHasAKid_WritesTheKeyWithoutIt()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var jwk = EcPublicJwk.FromECDsa(key);
        var withKid = jwk with { Kid = jwk.ComputeThumbprint() };

        var payload = new ProposalPayload(Domain, "00112233445566778899aabbccddeeff", Expires, new AddProducer("fab-a", "fab-a.pem", withKid));

        Assert.DoesNotContain("kid", payload.Text, StringComparison.Ordinal);
        Assert.Equal(jwk, Assert.IsType<AddProducer>(ProposalPayload.Parse(payload.Text).Action).PublicKey);
    }

    [Theory]
    [MemberData(nameof(NonCanonical))]
    public void Parse_NonCanonicalText_IsRefusedNamingTheField(string what, string text, string field)
    {
        var refused = Assert.Throws<Refused>(() => ProposalPayload.Parse(text));

        Assert.True(field == refused.Field, $"{what}: expected field '{field}', got '{refused.Field}': {refused.Message}");
    }

    [Fact]
    public void Parse_NonCanonicalButReadableText_ShowsTheCanonicalText()
    {
        var refused = Assert.Throws<Refused>(() => ProposalPayload.Parse(Allocation + "comment: hello\n"));

        Assert.EndsWith("sign exactly:\n" + Allocation, refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n")]
    [InlineData("BTMC committee proposal\n")]
    public void Parse_EmptyOrTitleOnly_IsRefused(string text)
    {
        Assert.Throws<Refused>(() => ProposalPayload.Parse(text));
    }

    private static ProposalAction Action(string name, EcPublicJwk key) => name switch
    {
        AddProducer.ActionName => new AddProducer("fab-a", "https://vault.example.net/keys/fab-a/0123", key),
        RemoveProducer.ActionName => new RemoveProducer("osat-b"),
        ReplaceMember.ActionName => new ReplaceMember("erin", "frank", key),
        AllocateTokens.ActionName => new AllocateTokens(Account, 1000),
        SetParameter.ActionName => new SetParameter(GovernanceParameters.VoteMaxProducers, 10),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "Not an action."),
    };

    /// <summary>Replaces text that must be there, so a case cannot silently test the canonical text.</summary>
    private static string Replace(string text, string from, string to)
    {
        Assert.Contains(from, text, StringComparison.Ordinal);
        return text.Replace(from, to, StringComparison.Ordinal);
    }
}
