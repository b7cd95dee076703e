using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Btmc.Testing;

/// <summary>One request as the loopback service received it.</summary>
public sealed record RecordedRequest(
    string Method, string Path, string Query, string? ContentType, string? Authorization, byte[] Body);

/// <summary>A scripted answer: status, body, and an optional delay before answering (to provoke client timeouts).</summary>
public sealed record Reply(int Status, string? Body = null, TimeSpan Delay = default);

/// <summary>
/// A stand-in for the Event Hubs HTTPS send endpoint on 127.0.0.1 (Kestrel, port chosen by the OS). It records every
/// request and, unless a <see cref="Script"/> says otherwise, answers as the service documents: 201 Created with an
/// empty body when the request is well formed and its SAS token verifies against <see cref="SharedAccessKey"/>
/// (recomputed here independently of the producer's code), 401 with an error body otherwise.
/// </summary>
public sealed class LoopbackEventHub : IAsyncDisposable
{
    public const string Namespace = "btmc-test.servicebus.windows.net";
    public const string EventHub = "supply-events";
    public const string KeyName = "send-policy";
    public const string SharedAccessKey = "dGVzdC1rZXktbm90LWEtc2VjcmV0PQ==";

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();

    private LoopbackEventHub(WebApplication app, Uri address, X509Certificate2? certificate)
    {
        _app = app;
        Address = address;
        Certificate = certificate;
    }

    public Uri Address { get; }

    /// <summary>The self-signed server certificate when started with HTTPS.</summary>
    public X509Certificate2? Certificate { get; }

    public IReadOnlyList<RecordedRequest> Requests => [.. _requests];

    /// <summary>Overrides the answer: given the request and its 0-based number, a reply, or null for the default.</summary>
    public Func<RecordedRequest, int, Reply?>? Script { get; set; }

    public static string ConnectionString(string key = SharedAccessKey) =>
        $"Endpoint=sb://{Namespace}/;SharedAccessKeyName={KeyName};SharedAccessKey={key};EntityPath={EventHub}";

    public static async Task<LoopbackEventHub> StartAsync(bool https = false)
    {
        var certificate = https ? CreateCertificate() : null;
        LoopbackEventHub? hub = null;
        var (app, address) = await LoopbackHost.StartAsync(() => hub is null ? null : hub.HandleAsync, certificate);
        return hub = new LoopbackEventHub(app, address, certificate);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Certificate?.Dispose();
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        var request = new RecordedRequest(
            context.Request.Method,
            context.Request.Path.Value ?? "",
            context.Request.QueryString.Value ?? "",
            context.Request.ContentType,
            context.Request.Headers.Authorization.Count == 0 ? null : context.Request.Headers.Authorization.ToString(),
            body.ToArray());
        var number = _requests.Count;
        _requests.Enqueue(request);

        var reply = Script?.Invoke(request, number) ?? DefaultReply(request);
        if (reply.Delay > TimeSpan.Zero)
        {
            try
            {
                await Task.Delay(reply.Delay, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                return; // the client gave up on this try
            }
        }

        context.Response.StatusCode = reply.Status;
        if (reply.Body is not null)
        {
            context.Response.ContentType = "application/xml; charset=utf-8";
            await context.Response.WriteAsync(reply.Body, context.RequestAborted);
        }
    }

    /// <summary>What the service documents: 201 with an empty body, or 401 with an error code and message.</summary>
    private static Reply DefaultReply(RecordedRequest request)
    {
        if (request.Authorization is not { } authorization || !authorization.StartsWith("SharedAccessSignature ", StringComparison.Ordinal))
        {
            return new Reply(401, ErrorBody(401, "MissingToken: The authorization header was not found."));
        }

        return VerifySharedAccessSignature(authorization, $"https://{Namespace}/{EventHub}", SharedAccessKey)
            ? new Reply(201)
            : new Reply(401, ErrorBody(401, "InvalidSignature: The token has an invalid signature."));
    }

    public static string ErrorBody(int code, string detail) =>
        $"<Error><Code>{code}</Code><Detail>{detail} TrackingId:00000000-0000-0000-0000-000000000000_G0, SystemTracker:{Namespace}:eventhub:{EventHub}, Timestamp:2026-01-01T00:00:00</Detail></Error>";

    /// <summary>
    /// Checks a <c>SharedAccessSignature sr=..&amp;sig=..&amp;se=..&amp;skn=..</c> header the way the docs describe the
    /// token: HMAC-SHA256 keyed with the policy key's UTF-8 bytes over the URL-encoded resource, a newline and the
    /// expiry; the resource must be <paramref name="expectedResource"/>, the key name ours and the expiry in the future.
    /// </summary>
    public static bool VerifySharedAccessSignature(string authorization, string expectedResource, string key)
    {
        var fields = authorization["SharedAccessSignature ".Length..]
            .Split('&')
            .Select(pair => pair.Split('=', 2))
            .Where(pair => pair.Length == 2)
            .ToDictionary(pair => pair[0], pair => pair[1], StringComparer.Ordinal);
        if (!fields.TryGetValue("sr", out var encodedResource) || !fields.TryGetValue("sig", out var encodedSignature)
            || !fields.TryGetValue("se", out var expiry) || !fields.TryGetValue("skn", out var keyName))
        {
            return false;
        }

        if (!string.Equals(Uri.UnescapeDataString(encodedResource), expectedResource, StringComparison.OrdinalIgnoreCase)
            || keyName != KeyName
            || !long.TryParse(expiry, NumberStyles.None, CultureInfo.InvariantCulture, out var expirySeconds)
            || expirySeconds <= DateTimeOffset.UtcNow.ToUnixTimeSeconds())
        {
            return false;
        }

        using var hmac = new HMACSHA256(Encoding.UTF8.GetBytes(key));
        var expected = hmac.ComputeHash(Encoding.UTF8.GetBytes(encodedResource + "\n" + expiry));
        byte[] presented;
        try
        {
            presented = Convert.FromBase64String(Uri.UnescapeDataString(encodedSignature));
        }
        catch (FormatException)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(expected, presented);
    }

    private static X509Certificate2 CreateCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx), null);
    }
}
