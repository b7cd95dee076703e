using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Core;
using Azure.Core.Pipeline;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Btmc.Testing;

/// <summary>One request as the loopback vault received it; header names are case-insensitive.</summary>
public sealed record KeyVaultRequest(string Method, string Path, string Query, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public string? Authorization => Headers.GetValueOrDefault("Authorization");
}

/// <summary>One version of a key the loopback vault holds: a real ECDsa key pair on P-256 or secp256k1.</summary>
public sealed record LoopbackKey(string Name, string Version, string KeyType, string Curve, ECDsa Key, IReadOnlyList<string> KeyOps, long Created)
{
    /// <summary>A new ECDsa holding only the public point, for verifying what the client was given.</summary>
    public ECDsa CreatePublicKey()
    {
        var parameters = Key.ExportParameters(includePrivateParameters: false);
        return ECDsa.Create(parameters);
    }
}

/// <summary>
/// Stands in for Entra ID next to <see cref="LoopbackKeyVault"/>: issues a fresh random token per request, records
/// every request (scopes, tenant, claims), and lets the vault check that a bearer token is one it issued, and for what.
/// </summary>
public sealed class LoopbackTokenCredential : TokenCredential
{
    private readonly ConcurrentQueue<TokenRequestContext> _requests = new();
    private readonly ConcurrentDictionary<string, TokenRequestContext> _issued = new(StringComparer.Ordinal);

    public IReadOnlyList<TokenRequestContext> Requests => [.. _requests];

    public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
    {
        _requests.Enqueue(requestContext);
        var token = "loopback-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        _issued[token] = requestContext;
        return new AccessToken(token, DateTimeOffset.UtcNow.AddHours(1));
    }

    public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
        new(GetToken(requestContext, cancellationToken));

    public bool TryGetIssued(string token, out TokenRequestContext context) => _issued.TryGetValue(token, out context);
}

/// <summary>
/// A stand-in for an Azure Key Vault on 127.0.0.1 (Kestrel, port chosen by the OS) that answers the
/// documented keys REST API (api-version 7.4-7.6) with real keys: Create Key, Get Key (latest and by version), Sign
/// (P1363 r || s, base64url) and Verify, and the documented error body <c>{"error":{"code","message"}}</c>:
/// 404 KeyNotFound, 403 Forbidden (<see cref="ForbiddenKeys"/>), 400 BadParameter (digest not 32 bytes, algorithm
/// not the key's curve's, malformed input), and scripted 429 Throttled with Retry-After or 5xx (<see cref="FailNext"/>).
/// Authentication is the Key Vault challenge: a request without a bearer token, or with one <see cref="Credential"/>
/// did not issue for scope <c>{ChallengeResource}/.default</c> and tenant <see cref="TenantId"/>, gets 401 with
/// <c>WWW-Authenticate: Bearer authorization="https://login.microsoftonline.com/{tenant}", resource="..."</c>.
/// Every request is recorded.
/// It serves HTTPS with a self-signed certificate made in memory for this instance (the official SDK sends bearer
/// tokens over TLS only); <see cref="Transport"/> trusts exactly that certificate, and nothing else trusts it.
/// <see cref="StartPlainHttpAsync"/> serves plain http, to show the SDK refusing it.
/// </summary>
public sealed class LoopbackKeyVault : IAsyncDisposable
{
    public const string DefaultResource = "https://vault.azure.net";

    private static readonly string[] ApiVersions = ["7.4", "7.5", "7.6"];

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<KeyVaultRequest> _requests = new();
    private readonly Dictionary<string, List<LoopbackKey>> _keys = new(StringComparer.OrdinalIgnoreCase);
    private readonly object _gate = new();
    private bool _disposed;
    private Fault? _fault;

    private readonly X509Certificate2? _certificate;
    private readonly HttpClientTransport _transport;

    private LoopbackKeyVault(WebApplication app, Uri vaultUri, X509Certificate2? certificate)
    {
        _app = app;
        VaultUri = vaultUri;
        _certificate = certificate;
        var handler = new HttpClientHandler();
        if (certificate is not null)
        {
            // Pinned to this vault's own certificate: exact bytes, not a chain or a name. Nothing secret is compared.
            var pinned = certificate.RawData;
            handler.ServerCertificateCustomValidationCallback = (_, presented, _, _) => presented is not null && presented.RawData.AsSpan().SequenceEqual(pinned);
        }

        _transport = new HttpClientTransport(handler);
    }

    /// <summary><c>https://127.0.0.1:{port}/</c> (<c>http://</c> from <see cref="StartPlainHttpAsync"/>).</summary>
    public Uri VaultUri { get; }

    /// <summary>The certificate the vault serves (public part); null over plain http.</summary>
    public X509Certificate2? Certificate => _certificate is null ? null : X509CertificateLoader.LoadCertificate(_certificate.RawData);

    /// <summary>An SDK transport (<c>ClientOptions.Transport</c>) whose TLS validation accepts this vault's certificate
    /// and no other: the vault's clients use it instead of the machine's trust store.</summary>
    public HttpPipelineTransport Transport => _transport;

    /// <summary>The only issuer of tokens this vault accepts.</summary>
    public LoopbackTokenCredential Credential { get; } = new();

    /// <summary>The tenant named in challenges; tokens must be for it. Changing it makes earlier tokens stale.</summary>
    public string TenantId { get; set; } = Guid.NewGuid().ToString();

    /// <summary>The resource named in challenges (<c>resource=</c>).</summary>
    public string ChallengeResource { get; set; } = DefaultResource;

    /// <summary>Key names whose every operation answers 403 Forbidden.</summary>
    public ISet<string> ForbiddenKeys { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Rewrites each signature before it is returned (to simulate a vault fault or a wrong key).</summary>
    public Func<byte[], byte[]>? SignatureTamper { get; set; }

    /// <summary>The scope a token must be for.</summary>
    public string ExpectedScope => ChallengeResource.TrimEnd('/') + "/.default";

    public IReadOnlyList<KeyVaultRequest> Requests => [.. _requests];

    /// <summary>Starts a vault on https://127.0.0.1 with a new self-signed certificate.</summary>
    public static async Task<LoopbackKeyVault> StartAsync()
    {
        var certificate = CreateCertificate();
        LoopbackKeyVault? vault = null;
        var (app, address) = await LoopbackHost.StartAsync(() => vault is null ? null : vault.HandleAsync, certificate);
        return vault = new LoopbackKeyVault(app, address, certificate);
    }

    /// <summary>Starts a vault on plain http://127.0.0.1: an address the SDK must refuse to send a token to.</summary>
    public static async Task<LoopbackKeyVault> StartPlainHttpAsync()
    {
        LoopbackKeyVault? vault = null;
        var (app, address) = await LoopbackHost.StartAsync(() => vault is null ? null : vault.HandleAsync);
        return vault = new LoopbackKeyVault(app, address, certificate: null);
    }

    /// <summary>
    /// A P-256 certificate for 127.0.0.1 (subject alternative name IP address), valid for a day, made in memory and
    /// never stored. Reloaded from PKCS#12 so that SslStream can use its private key on every platform (an ephemeral
    /// key from CreateSelfSigned is refused by SChannel on Windows).
    /// </summary>
    private static X509Certificate2 CreateCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=btmc loopback key vault", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        var now = DateTimeOffset.UtcNow;
        using var created = request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), password: null);
    }

    /// <summary>
    /// The next <paramref name="count"/> authenticated requests answer <paramref name="status"/> (429 Throttled, 5xx) with
    /// <c>Retry-After: <paramref name="retryAfterSeconds"/></c>.
    /// </summary>
    public void FailNext(int count, int status = 429, int retryAfterSeconds = 0)
    {
        lock (_gate)
        {
            _fault = new Fault(count, status, retryAfterSeconds);
        }
    }

    /// <summary>Adds a key, or a new latest version of it, as Create Key would; <paramref name="curve"/> is "P-256" or "P-256K".</summary>
    public LoopbackKey AddKey(string name, string curve = "P-256", bool hsm = false, IReadOnlyList<string>? keyOps = null)
    {
        var ecCurve = curve switch
        {
            "P-256" => ECCurve.NamedCurves.nistP256,
            "P-256K" => ECCurve.CreateFromValue("1.3.132.0.10"),
            _ => throw new ArgumentException($"The loopback vault makes P-256 and P-256K keys, not {curve}.", nameof(curve)),
        };
        var key = new LoopbackKey(
            name,
            Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
            hsm ? "EC-HSM" : "EC",
            curve,
            ECDsa.Create(ecCurve),
            keyOps ?? ["sign", "verify"],
            DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        lock (_gate)
        {
            if (!_keys.TryGetValue(name, out var versions))
            {
                _keys[name] = versions = [];
            }

            versions.Add(key);
        }

        return key;
    }

    /// <summary>A version of a key, or its latest; null when there is none.</summary>
    public LoopbackKey? FindKey(string name, string? version = null)
    {
        lock (_gate)
        {
            if (!_keys.TryGetValue(name, out var versions) || versions.Count == 0)
            {
                return null;
            }

            return version is null
                ? versions[^1]
                : versions.FirstOrDefault(key => string.Equals(key.Version, version, StringComparison.OrdinalIgnoreCase));
        }
    }

    /// <summary>The key identifier the vault writes as <c>kid</c>.</summary>
    public Uri KeyIdOf(LoopbackKey key) => new(VaultUri, $"keys/{key.Name}/{key.Version}");

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await _app.StopAsync();
        await _app.DisposeAsync();
        _transport.Dispose();
        _certificate?.Dispose();
        lock (_gate)
        {
            foreach (var key in _keys.Values.SelectMany(versions => versions))
            {
                key.Key.Dispose();
            }
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        var request = new KeyVaultRequest(
            context.Request.Method,
            context.Request.Path.Value ?? "",
            context.Request.QueryString.Value ?? "",
            context.Request.Headers.ToDictionary(header => header.Key, header => header.Value.ToString(), StringComparer.OrdinalIgnoreCase),
            buffer.ToArray());
        _requests.Enqueue(request);

        var reply = Answer(request, context.Request.Query["api-version"].ToString());
        context.Response.StatusCode = reply.Status;
        foreach (var (name, value) in reply.Headers)
        {
            context.Response.Headers[name] = value;
        }

        context.Response.ContentType = "application/json; charset=utf-8";
        await context.Response.WriteAsync(reply.Body.ToJsonString(), context.RequestAborted);
    }

    private Reply Answer(KeyVaultRequest request, string apiVersion)
    {
        if (!ApiVersions.Contains(apiVersion))
        {
            return Error(400, "BadParameter", $"The specified version ({apiVersion}) is not recognized.");
        }

        if (Authenticate(request) is { } refusal)
        {
            return refusal;
        }

        if (TakeFault() is { } fault)
        {
            return fault;
        }

        var segments = request.Path.Trim('/').Split('/');
        if (segments.Length < 2 || segments[0] != "keys")
        {
            return Error(404, "NotFound", $"No route for {request.Method} {request.Path}.");
        }

        var name = segments[1];
        if (ForbiddenKeys.Contains(name))
        {
            return Error(403, "Forbidden", $"The user, group or application does not have keys permission on key vault for key '{name}'.");
        }

        try
        {
            return (request.Method, segments.Length) switch
            {
                ("POST", 3) when segments[2] is "sign" or "verify" => Operate(name, null, segments[2], request.Body),
                ("POST", 4) when segments[3] is "sign" or "verify" => Operate(name, segments[2], segments[3], request.Body),
                ("GET", 2) => Get(name, null),
                ("GET", 3) => Get(name, segments[2].Length == 0 ? null : segments[2]),
                _ => Error(405, "MethodNotAllowed", $"{request.Method} {request.Path} is not an operation of this vault."),
            };
        }
        catch (Exception exception) when (exception is JsonException or FormatException or InvalidOperationException or KeyNotFoundException)
        {
            return Error(400, "BadParameter", $"The request body is malformed: {exception.Message}");
        }
    }

    private Reply? TakeFault()
    {
        lock (_gate)
        {
            if (_fault is not { Count: > 0 } fault)
            {
                return null;
            }

            _fault = fault with { Count = fault.Count - 1 };
            var reply = fault.Status == 429
                ? Error(429, "Throttled", "Operations per second is over the limit for this vault.")
                : Error(fault.Status, "ServiceUnavailable", "The service is temporarily unavailable.");
            return reply with { Headers = [("Retry-After", fault.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture))] };
        }
    }

    private Reply? Authenticate(KeyVaultRequest request)
    {
        var challenge = $"Bearer authorization=\"https://login.microsoftonline.com/{TenantId}\", resource=\"{ChallengeResource}\"";
        if (request.Authorization is not { } authorization || !authorization.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            return Error(401, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.") with { Headers = [("WWW-Authenticate", challenge)] };
        }

        if (!Credential.TryGetIssued(authorization["Bearer ".Length..], out var issued)
            || !issued.Scopes.SequenceEqual([ExpectedScope])
            || issued.TenantId != TenantId)
        {
            return Error(401, "Unauthorized", "AKV10032: Invalid issuer or audience.") with { Headers = [("WWW-Authenticate", challenge)] };
        }

        return null;
    }

    private Reply Get(string name, string? version) =>
        FindKey(name, version) is { } key ? new Reply(200, Bundle(key)) : KeyNotFound(name, version);

    private Reply Operate(string name, string? version, string operation, byte[] body)
    {
        if (FindKey(name, version) is not { } key)
        {
            return KeyNotFound(name, version);
        }

        var parameters = JsonNode.Parse(body)?.AsObject() ?? throw new JsonException("The body is not an object.");
        var alg = parameters["alg"]?.GetValue<string>() ?? throw new KeyNotFoundException("alg is required.");
        if ((alg, key.Curve) is not (("ES256", "P-256") or ("ES256K", "P-256K")))
        {
            return Error(400, "BadParameter", $"Key and signing algorithm are incompatible: {alg} on a {key.Curve} key.");
        }

        var digest = Base64Url.DecodeFromChars(
            parameters[operation == "sign" ? "value" : "digest"]?.GetValue<string>() ?? throw new KeyNotFoundException("The digest is required."));
        if (digest.Length != 32)
        {
            return Error(400, "BadParameter", $"Invalid length of the digest: {digest.Length} bytes, {alg} takes 32.");
        }

        if (operation == "sign")
        {
            var signature = key.Key.SignHash(digest, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
            signature = SignatureTamper?.Invoke(signature) ?? signature;
            return new Reply(200, new JsonObject { ["kid"] = KeyIdOf(key).AbsoluteUri, ["value"] = Base64Url.EncodeToString(signature) });
        }

        var presented = Base64Url.DecodeFromChars(parameters["value"]?.GetValue<string>() ?? throw new KeyNotFoundException("value is required."));
        var valid = key.Key.VerifyHash(digest, presented, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return new Reply(200, new JsonObject { ["value"] = valid });
    }

    private JsonObject Bundle(LoopbackKey key)
    {
        var point = key.Key.ExportParameters(includePrivateParameters: false).Q;
        return new JsonObject
        {
            ["key"] = new JsonObject
            {
                ["kid"] = KeyIdOf(key).AbsoluteUri,
                ["kty"] = key.KeyType,
                ["key_ops"] = new JsonArray([.. key.KeyOps.Select(op => JsonValue.Create(op))]),
                ["crv"] = key.Curve,
                ["x"] = Base64Url.EncodeToString(point.X),
                ["y"] = Base64Url.EncodeToString(point.Y),
            },
            ["attributes"] = new JsonObject
            {
                ["enabled"] = true,
                ["created"] = key.Created,
                ["updated"] = key.Created,
                ["recoveryLevel"] = "Recoverable+Purgeable",
                ["recoverableDays"] = 90,
                ["exportable"] = false,
            },
            ["tags"] = new JsonObject(),
        };
    }

    private static Reply KeyNotFound(string name, string? version) => Error(
        404, "KeyNotFound", $"A key with (name/id) {name}{(version is null ? "" : "/" + version)} was not found in this key vault.");

    private static Reply Error(int status, string code, string message) =>
        new(status, new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["message"] = message } });

    private sealed record Fault(int Count, int Status, int RetryAfterSeconds);

    private sealed record Reply(int Status, JsonObject Body)
    {
        public IReadOnlyList<(string Name, string Value)> Headers { get; init; } = [];
    }
}
