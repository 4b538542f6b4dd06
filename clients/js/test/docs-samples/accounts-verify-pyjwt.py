import os

import jwt

API = os.environ["USERS_API_URL"]  # e.g. https://users.example.com
keys = jwt.PyJWKClient(f"{API}/.well-known/jwks.json")


def verify(token):
    return jwt.decode(token, keys.get_signing_key_from_jwt(token).key, algorithms=["EdDSA"],
                      audience="my-site", issuer=API)
