package io.nydus.blobcache.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class AuthChallengeTest {

    @Test
    void aDistributionBearerChallenge() {
        List<AuthChallenge> all = AuthChallenge.parse(
                "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\",scope=\"repository:library/ubuntu:pull\"");
        assertEquals(1, all.size());
        AuthChallenge c = all.get(0);
        assertTrue(c.isBearer());
        assertEquals("https://auth.docker.io/token", c.realm());
        assertEquals("registry.docker.io", c.service());
        assertEquals(Set.of("repository:library/ubuntu:pull"), c.scopes());
    }

    @Test
    void severalScopesQuotesEscapesAndCommasInsideValues() {
        AuthChallenge c = AuthChallenge.parse("bearer  realm = \"http://a/t?x=1,y=2\" , service=reg,"
                + " scope=\"repository:a/b:pull,push repository:c:pull\", error=\"insufficient_scope\", "
                + "note=\"say \\\"hi\\\"\"").get(0);
        assertEquals("http://a/t?x=1,y=2", c.realm());
        assertEquals("reg", c.service());
        assertEquals(List.of("repository:a/b:pull,push", "repository:c:pull"), List.copyOf(c.scopes()));
        assertEquals("insufficient_scope", c.param("error"));
        assertEquals("say \"hi\"", c.param("note"));
    }

    @Test
    void severalChallengesInOneHeaderAndBasic() {
        List<AuthChallenge> all = AuthChallenge.parse("Basic realm=\"basic-realm\", Bearer realm=\"http://t/token\","
                + "service=\"s\", Negotiate, Other abc==");
        assertEquals(4, all.size());
        assertTrue(all.get(0).isBasic());
        assertEquals("basic-realm", all.get(0).realm());
        assertTrue(all.get(1).isBearer());
        assertEquals("s", all.get(1).service());
        assertEquals("negotiate", all.get(2).scheme());
        assertEquals("other", all.get(3).scheme());
        assertEquals(List.of(), AuthChallenge.parse(""));
        assertEquals(List.of(), AuthChallenge.parse(null));
        assertEquals(2, AuthChallenge.parseAll(List.of("Basic realm=x", "Bearer realm=y")).size());
    }
}
