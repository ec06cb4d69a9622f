{
  "targets": [
    {
      "target_name": "vecsnap_fadvise",
      "sources": ["fadvise.c"],
      "defines": ["_FILE_OFFSET_BITS=64"]
    }
  ]
}
