{
  "targets": [
    {
      "target_name": "vecsnap_advice",
      "sources": ["advice.c"],
      "defines": ["_FILE_OFFSET_BITS=64"]
    }
  ]
}
